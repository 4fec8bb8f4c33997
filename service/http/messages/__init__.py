"""The request messages of each API area, declared once.

Handlers parse requests into them, and the auth guard parses the same request with the
same class to find the resource it touches (service/http/guard/locate.py); so they live
apart from the handlers, and the guard never imports a handler.
"""
