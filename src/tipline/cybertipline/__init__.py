"""The CyberTipline wire format, which intake and referral both speak: the shipped XSD (`schema`), the
XML <-> report mapping driven by it (`xmlmap`), the Reporting API's response codes (`codes`) and the
export of a stored report as its XML (`export`). The Reporting API's own intake (opening, uploading,
finishing and expiring reports) is `tipline.intake.cybertipline`; its HTTP routes are web/routes/ispws.py."""
