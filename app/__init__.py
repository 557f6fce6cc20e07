"""The Streamlit workbench (``streamlit run app/Home.py``)."""
