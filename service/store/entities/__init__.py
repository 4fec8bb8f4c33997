"""What the stores take and return: plain, immutable records, one module per area, shaped
for the wire by ``service.http.wire``."""
