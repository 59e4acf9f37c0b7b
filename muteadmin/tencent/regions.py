"""Tencent Chat REST API domains, one pair per data centre."""

# The SDKAppID's data centre decides the domain; calling another one answers 70016 / 70020.
REGIONS: dict[str, tuple[str, str]] = {
    "china": ("console.tim.qq.com", "adminapi.my-imcloud.com"),
    "singapore": ("adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"),
    "seoul": ("adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"),
    "tokyo": ("adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com"),
    "frankfurt": ("adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"),
    "silicon-valley": ("adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"),
    "jakarta": ("adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"),
}


def region_base_url(region: str, *, backup: bool = False) -> str:
    """Return the HTTPS base URL (no trailing slash) of a region's primary or backup domain."""
    try:
        primary, backup_domain = REGIONS[region]
    except KeyError:
        known = ", ".join(REGIONS)
        raise ValueError(f"Unknown Tencent region {region!r}; expected one of: {known}.") from None
    return f"https://{backup_domain if backup else primary}"
