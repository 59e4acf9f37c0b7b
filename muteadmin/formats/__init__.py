"""Date formats for pages Django draws itself (the admin), one per language, all the same.

They write moments as muteadmin/core/moments.py does, with the zone's abbreviation, so the admin
reads like every other page in either language.
"""
