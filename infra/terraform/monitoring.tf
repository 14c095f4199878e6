# Alerts and the dashboard, over the Managed Service for Prometheus metrics
# the worker's sidecar and the forwarders' collectors write (queries and
# texts in monitoring-config.tf), plus one log-based alert for the UDP load
# balancer's health check. infra/README.md, "What an operator sees", explains
# each panel and alert and the first response.

# One email channel per address in var.alert_notification_emails; existing
# channels (PagerDuty, Slack, ...) come in through var.alert_notification_channels.
resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_notification_emails)

  display_name = "RunMat telemetry alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }

  depends_on = [google_project_service.this]
}

locals {
  alert_notification_channels = concat(
    [for c in google_monitoring_notification_channel.email : c.id],
    var.alert_notification_channels,
  )
}

resource "google_monitoring_alert_policy" "prometheus" {
  for_each = local.prometheus_alerts

  display_name          = each.value.display_name
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = local.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = each.value.display_name

    condition_prometheus_query_language {
      query               = trimspace(each.value.query)
      duration            = each.value.duration
      evaluation_interval = "60s"
      # Both must be valid Prometheus label names.
      rule_group = "runmat_telemetry"
      alert_rule = each.key
      # The metrics exist only once the collectors have scraped them, which
      # is after this policy is created on a first apply.
      disable_metric_validation = true
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }

  depends_on = [google_project_service.this]
}

# The UDP load balancer's TCP health check logs each health transition of a
# forwarder VM (log_config on google_compute_region_health_check.forwarder_lb);
# a VM turning UNHEALTHY means it stopped accepting on the health port and
# the load balancer took it out of rotation.
resource "google_monitoring_alert_policy" "udp_health_check" {
  display_name          = "Telemetry: a forwarder failed the UDP load balancer's health check"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "Forwarder VM turned UNHEALTHY"

    condition_matched_log {
      filter = join(" AND ", [
        "logName=\"projects/${var.project_id}/logs/compute.googleapis.com%2Fhealthchecks\"",
        "resource.type=\"gce_instance_group\"",
        "resource.labels.instance_group_name=\"${google_compute_region_instance_group_manager.forwarder.name}\"",
        "jsonPayload.healthCheckProbeResult.healthState=\"UNHEALTHY\"",
      ])
    }
  }

  alert_strategy {
    # Log-based alerts need a notification rate limit.
    notification_rate_limit {
      period = "300s"
    }
    auto_close = "1800s"
  }

  documentation {
    content   = <<-EOT
      A forwarder VM stopped answering the TCP health check on port ${local.health_port}
      and the UDP load balancer stopped sending it datagrams (the group's other
      VMs take its share; autohealing replaces it if `GET /healthz` keeps failing).

      First response: `gcloud compute instance-groups managed list-instances
      telemetry-udp-forwarder --region ${var.region}` for its state, then its
      serial console or `journalctl -u udp-forwarder` (container restarts, the
      Secret Manager key fetch at boot). Several VMs at once: a bad image or
      config rolled out; roll back forwarder_image.
    EOT
    mime_type = "text/markdown"
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_dashboard" "telemetry" {
  dashboard_json = local.dashboard_json

  depends_on = [google_project_service.this]
}
