"""Views for the people who run the floor: interval report, team scorecards, exception lists.

Built on the same registry and engine as the reviews, so every figure equals
``kpitools kpis`` for the same slice (docs/floor.md):

- :mod:`kpitools.floor.interval`: per 15/30/60-minute interval, with Erlang C and staffing;
- :mod:`kpitools.floor.team`: one scorecard per team, agents against team and center;
- :mod:`kpitools.floor.exceptions`: the contacts behind a bad number (analyst CSV files);
- :mod:`kpitools.floor.render`: HTML, PDF and CSV output and the command-line entry points.
"""
