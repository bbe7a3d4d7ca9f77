"""The CyberTipline-compatible Reporting API's intake: reports opened, filled with files, finished,
retracted (`service`), batched reports (`batched`) and the expiry of unfinished ones (`expiry`). The
wire format they speak (XSD, XML mapping, response codes) is `tipline.cybertipline`; the /ispws
endpoints are web/routes/ispws.py."""
