"""Test settings: production settings, minus HTTPS redirects and slow password hashing."""

from projinv.settings import *  # noqa: F403

HTTPS = SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["loggers"]["django-q"]["level"] = "WARNING"  # noqa: F405 - not a line per enqueued task in test output
