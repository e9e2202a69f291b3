"""Side files: authorizations, institutional stays and staff, read and checked like the export."""
