"""The dashboard's parts (``app.py`` draws the page and picks the run): the start form, the run's controls,
one module per tab, and ``reading.py``, what they read from runs and their data."""
