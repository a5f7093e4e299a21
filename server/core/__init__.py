"""Server foundations: settings, password hashing and tokens, the login throttle."""
