"""QR code images and printable posters."""
from flask import Blueprint

bp = Blueprint("qr", __name__)
