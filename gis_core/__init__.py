"""KentCBS core: the Django project and the core spatial domain."""
