# Dedicated VPC for the forwarder VMs. They have no external IPs: inbound UDP
# arrives through the passthrough load balancer, outbound calls (worker,
# Secret Manager, Artifact Registry) leave through Cloud NAT.
resource "google_compute_network" "telemetry" {
  name                    = "telemetry"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.this]
}

resource "google_compute_subnetwork" "forwarder" {
  name                     = "telemetry-forwarder"
  region                   = var.region
  network                  = google_compute_network.telemetry.id
  ip_cidr_range            = "10.20.0.0/24"
  private_ip_google_access = true
}

resource "google_compute_router" "telemetry" {
  name    = "telemetry"
  region  = var.region
  network = google_compute_network.telemetry.id
}

resource "google_compute_router_nat" "telemetry" {
  name                               = "telemetry"
  router                             = google_compute_router.telemetry.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# UDP without a port list: a fragmented datagram's later fragments carry no
# UDP header, so a rule naming port 7846 could only ever match the first one.
# The VMs have no external IP, so this admits what the UDP load balancer
# forwards; the VM's own firewall (cloud-init) then accepts only the
# forwarder's port, on datagrams the kernel has already reassembled.
resource "google_compute_firewall" "forwarder_udp" {
  name        = "telemetry-forwarder-udp"
  network     = google_compute_network.telemetry.id
  description = "Telemetry datagrams and their IP fragments from anywhere (the passthrough LB keeps client source addresses); the host firewall narrows to the UDP port."
  direction   = "INGRESS"

  allow {
    protocol = "udp"
  }

  source_ranges = ["0.0.0.0/0"]
  target_tags   = ["udp-forwarder"]
}

resource "google_compute_firewall" "forwarder_health" {
  name        = "telemetry-forwarder-health"
  network     = google_compute_network.telemetry.id
  description = "Health port reachable only by Google's load-balancer and autohealing probes."
  direction   = "INGRESS"

  allow {
    protocol = "tcp"
    ports    = [local.health_port]
  }

  source_ranges = local.health_probe_ranges
  target_tags   = ["udp-forwarder"]
}
