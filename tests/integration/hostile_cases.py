#!/usr/bin/env python3
# Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
"""Hostile strings for test_hostile_input.sh: path traversal and injection in
option 60, in chaddr and in reservation values (user-context.phoneprov).

usage: hostile_cases.py KEA_CONFIG_IN KEA_CONFIG_OUT CASES_OUT
Adds one reservation per string (known MACs 00:15:65:ee:xx:xx for Yealink, a
`key = value` format, and 00:04:13:ee:xx:xx for snom, XML) and writes the DHCP
cases: the strings in option 60 and in chaddr, then the reserved phones.
Prints the number of strings.
"""
import json
import sys

MARK = "INJECTED"


def strings():
    out = []
    traversal = ["../", "..\\", "..%2f", "%2e%2e%2f", "%2e%2e/", "..%c0%af", "....//", "..;/",
                 "\u2025/", "..\u2215", "..\uff0f", ".\u002e/", "..\0/"]
    targets = ["etc/passwd", "tmp/" + MARK, "root/.ssh/authorized_keys", "var/www/" + MARK,
               "proc/self/environ"]
    for t in traversal:
        for target in targets[:3]:
            out.append(t * 6 + target)
        out.append("/" + t * 2 + "canary/" + MARK)
    out += ["/etc/passwd", "/tmp/" + MARK, "~/" + MARK, "~root/" + MARK, "C:\\Windows\\" + MARK,
            "\\\\server\\share\\" + MARK, "file:///etc/passwd", "/dev/null", "/proc/self/fd/0",
            ".", "..", "...", ".phoneprov-tmp", ".phoneprov-tmp/../x", "-rf", "--help", "*", "?",
            "[a-z]", "{a,b}", "", " ", "\t", "a b"]
    # Injection into key = value files (a new key on a new line) and into XML.
    for sep in ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x00", "\x1b[2J",
                "\n\n", "\\n", "%0a", "%0d%0a", "&#10;", "&#x0A;"]:
        out.append("x" + sep + MARK + " = 1")
        out.append("x" + sep + "account.1.password = " + MARK)
    for x in ["</a><" + MARK + "/>", "\"/><" + MARK + " x=\"", "'><" + MARK + "/>",
              "]]><" + MARK + "/><![CDATA[", "<!ENTITY " + MARK + " SYSTEM \"file:///etc/passwd\">",
              "&" + MARK + ";", "&amp;" + MARK, "<?xml version=\"1.0\"?><" + MARK + "/>",
              "<!--" + MARK + "-->", "<![CDATA[" + MARK + "]]>", "&#60;" + MARK + "&#62;",
              "<" + MARK + ">", "\"" + MARK, "'" + MARK, "<" * 50 + MARK]:
        out.append(x)
    # Template injection: a value is never expanded again.
    for x in ["{{password}}", "{{{password}}}", "{{#accounts}}{{password}}{{/accounts}}",
              "{{=<% %>=}}", "{{>partial}}", "{{&password}}", "{{! x }}", "}}{{", "{{"]:
        out.append(x + MARK)
    # Shell, format strings, SQL, header injection, odd Unicode.
    for x in ["$(touch /tmp/" + MARK + ")", "`touch /tmp/" + MARK + "`", "; touch /tmp/" + MARK,
              "| touch /tmp/" + MARK, "&& touch /tmp/" + MARK, "%s%s%s%s%n", "%x%x%x%x", "%99999999s",
              "' OR '1'='1", "\"; DROP TABLE hosts; --", "Host: evil\r\nX: " + MARK,
              "\ufeff" + MARK, "\ufffe" + MARK, "\uffff" + MARK, "\u202e" + MARK, "\u0000" + MARK,
              "\x7f" + MARK, "\udc80" if False else "\u00ff\u00fe" + MARK,
              "A" * 4096, "\u00e9" * 1000, "\U0001f600" * 100, "=" * 300, "\\" * 64,
              "${jndi:ldap://127.0.0.1/" + MARK + "}", "#{" + MARK + "}", "@" + MARK]:
        out.append(x)
    # Fill up to well over 200 with combinations of traversal and injection.
    i = 0
    while len(out) < 230:
        out.append(traversal[i % len(traversal)] * (1 + i % 5) + ["\n", "</x>", "{{x}}", "\0", "%00"][i % 5]
                   + MARK + str(i))
        i += 1
    return out


def main():
    src, dst, cases_out = sys.argv[1:4]
    config = json.load(open(src))
    subnet = config["Dhcp4"]["subnet4"][0]
    res = subnet.setdefault("reservations", [])
    ss = strings()
    cases = []
    for i, s in enumerate(ss):
        b = s.encode("utf-8", "surrogatepass")
        # Option 60: alone, and behind a valid vendor class; at most 255 bytes per option
        # (dhcp_raw.py splits longer ones into several 60s).
        cases.append({"mac": "001565ff%04x" % i, "vc": b.hex()})
        cases.append({"mac": "001565fe%04x" % i, "vc": (b"yealink " + b).hex()})
        cases.append({"mac": "000413fd%04x" % i, "vc": (b"snom" + b).hex()})
        # chaddr: the string's bytes as the hardware address (hlen follows, up to 16).
        hw = (b or b"\0")[:16]
        cases.append({"mac": hw.hex(), "vc": b"yealink".hex(), "hlen": len(hw)})
        # Reservation values, for a key = value vendor and an XML vendor.
        for prefix, vc in (("001565ee", b"yealink"), ("000413ee", b"snomD785")):
            mac = prefix + "%04x" % i
            res.append({
                "hw-address": ":".join(mac[k:k + 2] for k in range(0, 12, 2)),
                "hostname": "h" + mac,
                "user-context": {"phoneprov": {
                    "sip-server": s,
                    "accounts": [{"user": s, "password": "pw-" + s, "display-name": s}],
                    "timezone": s}}})
            cases.append({"mac": mac, "vc": vc.hex()})
    # A plain phone at the end: DHCP still works for everyone.
    cases.append({"mac": "001565aabbcc", "vc": b"yealink".hex()})
    # Kea's JSON parser takes \u00XX escapes only: write other characters as UTF-8.
    with open(dst, "w", encoding="utf-8", errors="surrogatepass") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
    json.dump(cases, open(cases_out, "w"))
    print(len(ss))


if __name__ == "__main__":
    main()
