"""The HTTP API: routes per resource, typed schemas, request dependencies (auth, access checks) and errors."""
