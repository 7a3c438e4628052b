"""Authentication and authorization: tokens, principals, roles, the permission table
and the one policy function. The interceptors that apply them live in
api/access_interceptors.py."""
