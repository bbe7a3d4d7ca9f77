"""Hand-written, realistic and benign report documents (invented names, example domains)."""

from __future__ import annotations

# The example of section 6.1 of the API documentation, as printed there.
DOC_EXAMPLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd">
<incidentSummary>
<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
<reportAnnotations>
<sextortion />
<csamSolicitation />
<minorToMinorInteraction />
<spam />
<sadisticOnlineExploitation />
</reportAnnotations>
<incidentDateTime>2012-10-15T08:00:00-07:00</incidentDateTime>
</incidentSummary>
<internetDetails>
<webPageIncident>
<url>http://badsite.com/baduri.html</url>
</webPageIncident>
</internetDetails>
<reporter>
<reportingPerson>
<firstName>John</firstName>
<lastName>Smith</lastName>
<email>jsmith@example.com</email>
</reportingPerson>
</reporter>
</report>
"""

# The file details example of section 6.3 (report and file ids filled in by the test).
FILE_DETAILS_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<fileDetails xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd">
<reportId>{report_id}</reportId>
<fileId>{file_id}</fileId>
<originalFileName>mypic.jpg</originalFileName>
<ipCaptureEvent>
<ipAddress>63.116.246.17</ipAddress>
<eventName>Upload</eventName>
<dateTime>2011-10-31T12:00:00Z</dateTime>
</ipCaptureEvent>
<additionalInfo>File was originally posted with 6 others</additionalInfo>
</fileDetails>
"""

# An enticement report as a chat platform would file it.
ENTICEMENT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Online Enticement of Children for Sexual Acts</incidentType>
    <platform>Chirp</platform>
    <reportAnnotations><sextortion/></reportAnnotations>
    <incidentDateTime>2026-10-15T08:00:00-07:00</incidentDateTime>
    <incidentDateTimeDescription>Messages sent over two evenings</incidentDateTimeDescription>
  </incidentSummary>
  <internetDetails>
    <chatImIncident>
      <chatClient>Chirp</chatClient>
      <content>u1: are your parents home?
u1: don't tell them</content>
    </chatImIncident>
  </internetDetails>
  <reporter>
    <reportingPerson>
      <firstName>Trust</firstName>
      <lastName>Team</lastName>
      <email verified="true">safety@chirp.example</email>
    </reportingPerson>
    <companyTemplate>Chirp safety report v2</companyTemplate>
  </reporter>
  <personOrUserReported>
    <personOrUserReportedPerson>
      <phone countryCallingCode="+1" type="Mobile">(202) 555-0143</phone>
      <email>Night.Owl@Example.com</email>
    </personOrUserReportedPerson>
    <espIdentifier>88812345</espIdentifier>
    <espService>Chirp</espService>
    <screenName>@NightOwl77</screenName>
    <displayName>Night Owl</displayName>
    <ipCaptureEvent>
      <ipAddress>203.0.113.7</ipAddress>
      <eventName>Login</eventName>
      <dateTime>2026-10-14T22:00:00Z</dateTime>
      <port>443</port>
    </ipCaptureEvent>
    <accountTemporarilyDisabled disabledDate="2026-10-15T09:00:00Z">true</accountTemporarilyDisabled>
  </personOrUserReported>
  <victim>
    <victimPerson>
      <firstName>Robin</firstName>
      <age>13</age>
    </victimPerson>
    <screenName>robin.k</screenName>
  </victim>
  <additionalInfo>Ünïcödé note: the account asked for photos — twice.</additionalInfo>
</report>
""".encode()

# The same report, written by hand in the JSON form of POST /api/v1/reports.
ENTICEMENT_JSON = {
    "incidentSummary": {
        "incidentType": "Online Enticement of Children for Sexual Acts",
        "platform": "Chirp",
        "reportAnnotations": {"sextortion": True},
        "incidentDateTime": "2026-10-15T08:00:00-07:00",
        "incidentDateTimeDescription": "Messages sent over two evenings",
    },
    "internetDetails": [
        {"chatImIncident": {"chatClient": "Chirp", "content": "u1: are your parents home?\nu1: don't tell them"}}
    ],
    "reporter": {
        "reportingPerson": {
            "firstName": "Trust",
            "lastName": "Team",
            "email": [{"value": "safety@chirp.example", "verified": True}],
        },
        "companyTemplate": "Chirp safety report v2",
    },
    "personOrUserReported": [
        {
            "personOrUserReportedPerson": {
                "email": ["Night.Owl@Example.com"],
                "phone": [{"value": "(202) 555-0143", "countryCallingCode": "+1", "type": "Mobile"}],
            },
            "espIdentifier": "88812345",
            "espService": "Chirp",
            "screenName": "@NightOwl77",
            "displayName": ["Night Owl"],
            "ipCaptureEvent": [{"ipAddress": "203.0.113.7", "eventName": "Login", "dateTime": "2026-10-14T22:00:00Z",
                                "port": 443}],
            "accountTemporarilyDisabled": {"value": True, "disabledDate": "2026-10-15T09:00:00Z"},
        }
    ],
    "victim": [{"victimPerson": {"firstName": "Robin", "age": 13}, "screenName": "robin.k"}],
    "additionalInfo": "Ünïcödé note: the account asked for photos — twice.",
}


def batched_report(extra: str = "", person: str = "<espIdentifier>acct-1</espIdentifier>") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<report>
  <batchedReport reason="VIRAL_POTENTIAL_MEME"/>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <incidentDateTime>2026-03-01T10:00:00Z</incidentDateTime>
  </incidentSummary>
  {extra}
  <reporter><reportingPerson><email>safety@pixelgram.example</email></reportingPerson></reporter>
  <personOrUserReported>{person}</personOrUserReported>
  <personOrUserReported><espIdentifier>acct-2</espIdentifier></personOrUserReported>
</report>
""".encode()


def file_details(report_id: int, file_id: str, inner: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<fileDetails><reportId>{report_id}</reportId>'
            f"<fileId>{file_id}</fileId>{inner}</fileDetails>").encode()
