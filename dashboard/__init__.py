"""The dashboard's own modules (``app.py`` is its entry point: ``streamlit run app.py``)."""
