"""QRIS payloads that look like the real thing, and their images."""

from __future__ import annotations

import io

import segno

_ACQUIRER_DOMAINS = {"gopay": "COM.GO-JEK.WWW", "airpay shopee": "ID.CO.SHOPEE.WWW"}


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(data: bytes) -> str:
    """CRC-16/CCITT-FALSE, the checksum EMVCo puts in tag 63."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def qris_payload(*, amount: int, reference: str, acquirer: str, merchant_name: str) -> str:
    """A dynamic (point-of-initiation 12) EMVCo merchant payload with a valid CRC."""
    domain = _ACQUIRER_DOMAINS.get(acquirer, "COM.GO-JEK.WWW")
    merchant_account = _tlv("00", domain) + _tlv("01", "936009140000000001") + _tlv("03", "UMI")
    national = _tlv("00", "ID.CO.QRIS.WWW") + _tlv("02", "ID1020000000001") + _tlv("03", "UMI")
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")
        + _tlv("26", merchant_account)
        + _tlv("51", national)
        + _tlv("52", "5812")  # MCC: eating places and restaurants
        + _tlv("53", "360")  # ISO 4217 IDR
        + _tlv("54", str(amount))
        + _tlv("58", "ID")
        + _tlv("59", merchant_name[:25])
        + _tlv("60", "JAKARTA")
        + _tlv("61", "12190")
        + _tlv("62", _tlv("05", reference[:25]))
        + "6304"
    )
    return body + crc16_ccitt(body.encode())


def qr_svg(payload: str) -> str:
    return str(segno.make(payload, error="m", micro=False).svg_inline(scale=4, border=2))


def qr_png(payload: str, *, border: int = 0) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=6, border=border)
    return buffer.getvalue()
