"""The request messages of each API area, declared once.

Handlers parse requests into them, and the authorization layer parses the same request
with the same class to find the resource it touches (service/auth/locate.py); so they live
apart from the handlers, and auth never imports a handler.
"""
