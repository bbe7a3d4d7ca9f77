"""Referral: packages handed to law-enforcement agencies (signed, encrypted), the service that refers
a report, the outcomes agencies report back, reminders and trends."""
