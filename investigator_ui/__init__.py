"""The investigator console: a Streamlit app that talks to the fraudgraph API only.

It never opens Neo4j itself, so every read goes through the API's role checks, masking
and audit log. Run it with ``streamlit run investigator_ui/app.py``.
"""
