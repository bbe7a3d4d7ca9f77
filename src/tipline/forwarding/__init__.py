"""Forwarding reports to CyberTipline-compatible services (NCMEC, partner hotlines running tipline):
the destinations, the client of the CyberTipline Reporting API, and the worker's forwarding job."""
