"""Services: the actions of Paperwire that the web, the CLI and the jobs share.

Each module is a plain set of functions taking settings and the database; handlers only
parse, call and render. SQL stays in ``store/``."""
