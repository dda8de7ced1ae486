-- Hand-written DuckDB SQL for the whole KPI catalogue over one period: the yardstick the
-- kpitools engine is measured against in `make bench`. Written directly from SPEC §4, not
-- generated. Placeholders: {dir} data folder, {start} / {end} first and last day (inclusive).
WITH c AS (
    SELECT *,
        CASE WHEN outcome = 'handled' THEN epoch(answered_at) - epoch(arrived_at)
             ELSE epoch(ended_at) - epoch(arrived_at) END AS wait,
        CASE channel WHEN 'voice' THEN 20 WHEN 'chat' THEN 60 END AS threshold
    FROM read_parquet('{dir}/interactions.parquet')
    WHERE arrived_at >= DATE '{start}' AND arrived_at < DATE '{end}' + INTERVAL 1 DAY
),
agg AS (
    SELECT
        count(*) AS contact_volume,
        count(*) FILTER (WHERE direction = 'inbound') AS offered,
        count(*) FILTER (WHERE outcome = 'handled') AS handled,
        sum(talk_s + hold_s + acw_s) FILTER (WHERE outcome = 'handled') AS handle_time,
        count(*) FILTER (WHERE direction = 'inbound' AND channel IN ('voice', 'chat')) AS rt_offered,
        count(*) FILTER (WHERE direction = 'inbound' AND channel IN ('voice', 'chat') AND outcome = 'handled') AS rt_answered,
        sum(wait) FILTER (WHERE direction = 'inbound' AND channel IN ('voice', 'chat') AND outcome = 'handled') AS rt_wait,
        count(*) FILTER (WHERE direction = 'inbound' AND channel IN ('voice', 'chat') AND outcome = 'handled' AND wait <= threshold) AS rt_within,
        count(*) FILTER (WHERE direction = 'inbound' AND channel IN ('voice', 'chat') AND outcome = 'abandoned') AS rt_abandoned,
        count(*) FILTER (WHERE direction = 'inbound' AND channel IN ('voice', 'chat') AND outcome = 'abandoned' AND wait < 5) AS rt_short,
        avg(wait) FILTER (WHERE direction = 'inbound' AND channel IN ('email', 'social') AND outcome = 'handled') AS first_response_time,
        count(*) FILTER (WHERE outcome = 'handled' AND direction = 'inbound' AND resolved) AS fcr_yes,
        count(*) FILTER (WHERE outcome = 'handled' AND direction = 'inbound' AND resolved IS NOT NULL) AS fcr_known,
        count(*) FILTER (WHERE outcome = 'handled' AND direction = 'inbound' AND customer_id IS NOT NULL) AS repeat_base,
        count(*) FILTER (WHERE outcome = 'handled' AND transferred) AS transferred,
        count(*) FILTER (WHERE outcome = 'handled' AND escalated) AS escalated
    FROM c
),
later AS (
    SELECT outcome, arrived_at,
        count(*) OVER (PARTITION BY customer_id, issue_type ORDER BY epoch_us(arrived_at)
                       RANGE BETWEEN 1 FOLLOWING AND 604800000000 FOLLOWING) AS n_later
    FROM read_parquet('{dir}/interactions.parquet')
    WHERE direction = 'inbound' AND customer_id IS NOT NULL AND issue_type IS NOT NULL
      AND arrived_at >= DATE '{start}' AND arrived_at < DATE '{end}' + INTERVAL 8 DAY
),
repeats AS (
    SELECT count(*) AS repeat_hits FROM later
    WHERE outcome = 'handled' AND n_later > 0 AND arrived_at < DATE '{end}' + INTERVAL 1 DAY
      AND arrived_at >= DATE '{start}'
),
surveys AS (
    SELECT
        avg(CASE WHEN s.csat >= 4 THEN 1.0 WHEN s.csat IS NOT NULL THEN 0.0 END) AS csat,
        avg(s.csat) AS csat_score,
        100.0 * (count(*) FILTER (WHERE s.nps >= 9) - count(*) FILTER (WHERE s.nps <= 6))
            / count(s.nps) AS nps,
        avg(s.ces) AS ces
    FROM read_parquet('{dir}/surveys.parquet') s JOIN c ON s.interaction_id = c.interaction_id
),
activity AS (
    SELECT sum(handling_s) / sum(handling_s + available_s) AS occupancy,
           sum(handling_s) / sum(logged_in_s) AS utilization
    FROM read_parquet('{dir}/agent_activity.parquet')
    WHERE date BETWEEN DATE '{start}' AND DATE '{end}'
),
cost AS (
    SELECT sum(amount * (least(period_end, DATE '{end}') - greatest(period_start, DATE '{start}') + 1)
               / (period_end - period_start + 1)) AS cost
    FROM read_parquet('{dir}/costs.parquet')
    WHERE period_end >= DATE '{start}' AND period_start <= DATE '{end}'
),
quality AS (
    SELECT avg(q.score) AS quality_score
    FROM read_parquet('{dir}/qa.parquet') q JOIN c ON q.interaction_id = c.interaction_id
)
SELECT
    contact_volume, offered, handled,
    handle_time / handled AS aht,
    rt_wait / rt_answered AS asa,
    rt_within / (rt_offered - rt_short) AS service_level,
    (rt_abandoned - rt_short) / (rt_offered - rt_short) AS abandonment_rate,
    rt_answered / (rt_offered - rt_short) AS answer_rate,
    first_response_time,
    fcr_yes / fcr_known AS fcr,
    repeat_hits / repeat_base AS repeat_contact_rate,
    transferred / handled AS transfer_rate,
    escalated / handled AS escalation_rate,
    csat, csat_score, nps, ces, occupancy, utilization,
    cost / handled AS cost_per_contact,
    quality_score
FROM agg, repeats, surveys, activity, cost, quality
