"""Exports into formats other tools load: MAF per draw and a cBioPortal study folder."""
