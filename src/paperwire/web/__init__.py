"""The web app: server-rendered pages, the JSON API and Atom feeds (see ``app.create_app``)."""
