"""Server-rendered pages: thin clients of the same services and event streams as the API."""
