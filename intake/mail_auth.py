"""Is the From address genuine? Read from the Authentication-Results our own receiving server stamps.

Only headers carrying the configured server id count: anyone can write an Authentication-Results
header into a message, but only our server adds one with its id (RFC 8601 section 5). DMARC
passing is enough; so is DKIM or SPF passing for a domain aligned with the From domain.
"""
from __future__ import annotations

import re

# Public suffixes under which English schools' domains sit (a subset of the Public Suffix List:
# *.sch.uk is a suffix, so each local authority's sch.uk zone is too).
TWO_LEVEL = {"co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "net.uk", "me.uk",
             "nhs.uk", "police.uk", "sch.uk"}


def organisational_domain(domain: str) -> str:
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) == "sch.uk":
        return ".".join(labels[-4:]) if len(labels) >= 4 else ".".join(labels[-3:])
    if ".".join(labels[-2:]) in TWO_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(domain: str, from_domain: str) -> bool:
    return bool(domain) and organisational_domain(domain) == organisational_domain(from_domain)


def results(header: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    """(authserv-id, [(method, result, properties)]) of one Authentication-Results header."""
    text = re.sub(r"\([^()]*\)", " ", header)  # comments may hold anything, even ';'
    parts = [p.strip() for p in text.split(";")]
    server = parts[0].split()[0].lower() if parts and parts[0].split() else ""
    found = []
    for part in parts[1:]:
        tokens = part.split()
        if not tokens or "=" not in tokens[0]:
            continue  # "none" or garbage
        method, _, result = tokens[0].partition("=")
        props = {}
        for token in tokens[1:]:
            key, eq, value = token.partition("=")
            if eq:
                props[key.lower()] = value.strip('"').lower()
        found.append((method.lower().split("/")[0], result.lower(), props))
    return server, found


def refusal(headers: list[str], authserv_id: str, sender: str) -> str | None:
    """None when the sender is authenticated (or no server id is configured); else why not."""
    if not authserv_id:
        return None
    from_domain = sender.rsplit("@", 1)[-1]
    ours = [found for server, found in map(results, headers) if server == authserv_id.lower()]
    if not ours:
        return f"The message carries no Authentication-Results from {authserv_id}."
    seen = []
    for found in ours:
        for method, result, props in found:
            seen.append(f"{method}={result}")
            if result != "pass":
                continue
            if method == "dmarc":
                return None
            if method == "dkim" and aligned(props.get("header.d", ""), from_domain):
                return None
            if method == "spf" and aligned(props.get("smtp.mailfrom", "").rsplit("@", 1)[-1],
                                           from_domain):
                return None
    return (f"The sender {sender} could not be authenticated: neither DMARC nor DKIM/SPF aligned "
            f"with {from_domain} passed ({', '.join(seen) or 'no results'}).")
