"""Console pages: thin scripts run by ``st.navigation``; the logic is in the client.

The folder is not called ``pages/``: Streamlit auto-discovers a ``pages/`` folder next to the
entry script as old-style pages, and AppTest then ran a page the role was not given (and
kept showing Sign in after signing in). Each page also checks its permission itself.
"""
