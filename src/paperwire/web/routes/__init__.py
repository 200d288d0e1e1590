"""Routers, one module per area. ``paperwire.web.app.ROUTE_MODULES`` lists them in include order."""
