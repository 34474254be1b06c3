"""JSON API 接口 (token authentication) and the card station endpoints."""
