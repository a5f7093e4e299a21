"""What the routes call: accounts, programmes, progress, reports, uploads, the catalog and live sessions."""
