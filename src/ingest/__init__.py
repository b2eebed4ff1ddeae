"""Reading partner delivery files and turning them into canonical, pseudonymised rows.

The path of one delivery: deliveries (find, name, hash) -> readers (bytes to a frame of strings)
-> headers (partner mapping to canonical columns) -> parse (explicit dates, numbers, codes)
-> pseudonymise (BSN to keyed pseudonym, birth date to year, postcode to municipality)
-> validate (Pandera schema of the staging table) -> accepted rows and quarantined rows.
`ingest.process.process_delivery` runs that path for one file.
"""
