"""The backend store: tables, queries, migrations. Knows nothing of HTTP."""
