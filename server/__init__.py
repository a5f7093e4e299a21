"""The formcheck HTTP server: JSON API under /api, web pages from ``server.web``."""
