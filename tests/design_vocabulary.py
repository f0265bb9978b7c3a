"""The vocabularies of the deployment language, written out from DESIGN.md rather than imported
from the compiler, so the tests check the compiler against the specification."""

PARTY_KINDS = ["utility", "peer_utility", "customer", "third_party", "communication_provider"]
CUSTOMER_CLASSES = ["residential", "commercial", "industrial", "municipal"]
DOMAIN_KINDS = ["utility_edge", "premise_edge", "communication", "managed_network", "automated_network", "utility_enterprise"]
DEVICE_KINDS = [
    "meter", "han_device", "customer_interface", "ems", "aggregator", "edge_aggregator", "head_end",
    "network_manager", "mdms", "billing_system", "draacs", "load_reduction_model", "grid_control_center",
    "outage_management", "payment_system", "field_service_terminal", "distribution_automation",
    "third_party_system",
]
DATA_CLASSES = [
    "meter_reads", "usage_data", "disconnect_command", "load_limit_command", "dr_signal", "price_signal",
    "customer_message", "tamper_alert", "outage_event", "power_quality_data", "der_control",
    "firmware_image", "diagnostics", "device_registration", "configuration", "payment_data",
    "prepay_balance", "location_data", "audit_log",
]
AGREEMENT_KINDS = ["service_contract", "confidentiality", "premise_access", "customer_consent", "data_sharing"]
MEDIA = ["rf_mesh", "plc", "bpl", "cellular", "wimax", "fiber", "ethernet", "dsl", "satellite", "wifi", "zigbee", "internet"]
PROTOCOLS = ["c12_22", "c12_18", "zigbee_sep2", "ieee_2030_5", "openadr", "dnp3", "iec_61850", "modbus", "https", "mqtt", "other"]
ENCRYPTION = ["none", "aes_128", "aes_256", "tls_1_2", "tls_1_3", "dtls", "ipsec"]
AUTHENTICATION = ["none", "one_way", "mutual"]
INTEGRITY = ["none", "crc", "mac", "signature"]
USE_CASES = [
    "billing.remote_read", "billing.remote_disconnect", "billing.tamper_detection", "billing.contract_read",
    "customer.demand_response", "customer.usage_access", "customer.prepayment",
    "customer.third_party_management", "distribution.emergency_dr", "distribution.network_optimization",
    "distribution.distributed_generation", "distribution.outage_restoration", "installation.deployment",
    "installation.maintenance", "installation.firmware_upgrade", "system.recovery",
]
STANDARDS = ["nistir_7628", "nist_800_53", "nerc_cip", "iec_62351", "iec_62443", "pci_dss"]
RIGHTS = ["monitor", "control", "configure", "read_data"]
