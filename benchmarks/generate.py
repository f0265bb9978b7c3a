"""Generate a realistic synthetic deployment of any size, shaped like the examples: a utility with
fleets of meters behind collectors run by a telecom, head ends, an MDMS, premise domains with HAN
devices, flows and agreements.

    python -m benchmarks.generate 10000 > big.ami
    python -m benchmarks.generate 100000 -o huge.ami
"""
from __future__ import annotations

import argparse
import sys

HEADER = '''# Synthetic deployment: {n} elements (devices + links + flows)
deployment "Synthetic AMI {n}" {{
  utility metro
  use_cases billing.remote_read, billing.remote_disconnect, billing.tamper_detection,
            customer.demand_response, installation.firmware_upgrade, system.recovery
  standards nist_800_53, iec_62443, nistir_7628
}}

party metro "Metro Electric" : utility
party telco "Telco Networks" : communication_provider
party peer "Valley Gas" : peer_utility
party homes "Residential customers" : customer residential

agreement msa : service_contract {{
  between metro, telco
  covers {covers}
}}

domain field : utility_edge
domain mesh : communication
domain noc : managed_network
domain auto : automated_network
domain office : utility_enterprise
domain premises : premise_edge {{ customer homes }}

device head_end : head_end in auto {{ owner metro; control metro; redundancy 2; logging on }}
device mdms : mdms in office {{ owner metro; control metro; storage encrypted; logging on }}
device nms : network_manager in noc {{ owner metro; control metro; logging on }}
link core : head_end <-> mdms {{ medium fiber; encryption tls_1_3; authentication mutual; integrity mac; carries *; latency 1s }}
'''

METER = '''device meters_{i} : meter x 500 in field {{
  owner metro
  control metro
  firmware signed
  tamper_detection on
  remote_disconnect on
  role ami_gateway
}}
'''
COLLECTOR = "device collector_{c} : aggregator x 2 in mesh {{ owner telco; control telco under msa }}\n"
BACKHAUL = "link backhaul_{c} : collector_{c} -> head_end {{ medium cellular; encryption tls_1_2; authentication mutual; integrity mac; carries *; latency 2s }}\n"
RF = "link rf_{i} : meters_{i} -> collector_{c} {{ medium rf_mesh; protocol c12_22; encryption aes_128; authentication mutual; integrity mac; carries meter_reads, disconnect_command, tamper_alert, firmware_image; latency 30s }}\n"
FLOW = "flow disconnect_{i} : disconnect_command from mdms to meters_{i} {{ signed by metro; non_repudiation on; logged on; latency 5m }}\n"

METERS_PER_COLLECTOR = 20


def generate(n: int) -> str:
    """About n elements: per meter fleet one device, one link and one flow, plus collectors."""
    fleets = max(1, n // 3)
    collectors = max(1, fleets // METERS_PER_COLLECTOR)
    names = [f"collector_{c}" for c in range(collectors)]
    covers = ",\n    ".join(", ".join(names[i:i + 10]) for i in range(0, len(names), 10))
    parts = [HEADER.format(n=n, covers=covers)]
    for c in range(collectors):
        parts.append(COLLECTOR.format(c=c))
        parts.append(BACKHAUL.format(c=c))
    for i in range(fleets):
        c = i % collectors
        parts.append(METER.format(i=i))
        parts.append(RF.format(i=i, c=c))
        parts.append(FLOW.format(i=i))
    return "".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("elements", type=int, nargs="?", default=1000,
                    help="devices + links + flows to declare (default 1000)")
    ap.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    args = ap.parse_args()
    if args.elements < 1:
        ap.error("elements must be 1 or more")
    text = generate(args.elements)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
