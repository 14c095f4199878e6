# What the collectors scrape and what the alerts and the dashboard ask of
# the metrics. Variables and locals only (no resources), so the tests can
# evaluate every query and config with `terraform console`; monitoring.tf,
# worker.tf and the forwarder's cloud-init put them in place.
locals {
  scrape_interval = "${var.metrics_scrape_interval_seconds}s"

  # Cloud Run: the Managed Service for Prometheus sidecar reads this
  # RunMonitoring config from /etc/rungmp/config.yaml (a Secret Manager
  # volume). Without it the sidecar scrapes port 8080, the worker's public
  # port, which no longer serves /metrics; this names the metrics port only.
  worker_run_monitoring = yamlencode({
    apiVersion = "monitoring.googleapis.com/v1beta"
    kind       = "RunMonitoring"
    metadata   = { name = "telemetry-worker" }
    spec = {
      endpoints = [{
        port     = tostring(local.worker_metrics_port)
        path     = local.metrics_path
        interval = local.scrape_interval
      }]
    }
  })

  # Forwarder VMs: Container-Optimized OS has no Ops Agent, so each VM runs the
  # Google-Built OpenTelemetry Collector (the image Google documents for COS)
  # with a Prometheus receiver on the forwarder's health port over loopback,
  # exporting to Managed Service for Prometheus as the VM's service account.
  forwarder_collector_config = yamlencode({
    receivers = {
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "udp-forwarder"
            scrape_interval = local.scrape_interval
            metrics_path    = local.metrics_path
            static_configs  = [{ targets = ["127.0.0.1:${local.health_port}"] }]
          }]
        }
      }
    }
    processors = {
      # Attaches the VM's project, zone and instance, which the exporter maps
      # to the prometheus_target resource.
      resourcedetection = { detectors = ["gcp"], timeout = "10s" }
      memory_limiter    = { check_interval = "1s", limit_percentage = 65, spike_limit_percentage = 20 }
      batch             = { send_batch_size = 200, send_batch_max_size = 200, timeout = "5s" }
    }
    exporters  = { googlemanagedprometheus = {} }
    extensions = { health_check = { endpoint = "127.0.0.1:13133" } }
    service = {
      extensions = ["health_check"]
      pipelines = {
        metrics = {
          receivers  = ["prometheus"]
          processors = ["resourcedetection", "memory_limiter", "batch"]
          exporters  = ["googlemanagedprometheus"]
        }
      }
    }
  })

  # Worker rejections that mean "the client sent something malformed" (not
  # a key, rate or capacity refusal): the spike alert's numerator.
  worker_invalid_codes = "invalid_json|invalid_batch|payload_too_large|unsupported_media_type|not_object|unknown_event|missing_field|wrong_type|invalid_string|invalid_value|too_large"

  # PromQL alert policies (Cloud Monitoring evaluates PromQL over the Managed
  # Prometheus metrics). Each `documentation` is what the notification says:
  # what it means and the first thing to do; infra/README.md has the same.
  prometheus_alerts = {
    events_lost = {
      display_name  = "Telemetry: accepted events lost (forward failures)"
      severity      = "CRITICAL"
      duration      = "0s"
      query         = <<-EOT
        sum by (destination, reason) (increase(runmat_delivery_failed_events_total[5m])) > 0
      EOT
      documentation = <<-EOT
        Events that were accepted are gone. `destination` says where: posthog or
        ga4 (the worker gave up), or worker (the forwarder did); `reason` says
        why: retries_exhausted, refused, rejected, too_large, encode_error or
        shutdown (still held at the shutdown deadline).

        First response: open the logs for `forward failed` or `events not
        delivered`. posthog or ga4 points at that service (status page, API key
        in Secret Manager); `refused` on destination worker means the worker
        refused the forwarder's batches (a wrong `TELEMETRY_INGESTION_KEY` after
        a rotation shows as 401s).
      EOT
    }
    queue_full_drops = {
      display_name  = "Telemetry: events dropped because a queue is full"
      severity      = "ERROR"
      duration      = "0s"
      query         = <<-EOT
        label_replace(sum(increase(runmat_forwarder_datagrams_dropped_total{reason="queue_full"}[5m])) > 0, "source", "forwarder", "", "")
        or label_replace(sum(increase(runmat_worker_events_rejected_total{code="queue_full"}[5m])) > 0, "source", "worker", "", "")
      EOT
      documentation = <<-EOT
        A bounded queue refused events: on the forwarder (`source` = forwarder)
        datagrams were dropped as `queue_full` and are lost; on the worker
        (`source` = worker) requests got 503 `queue_full`, which the forwarder
        retries but a client sending single events over HTTP may not.

        First response: the queue fills when the next hop is slow or down. Check
        the dashboard's queue depth and forwarded panels: if PostHog or GA4
        deliveries stalled, look at the worker's forwarding errors; if the
        worker is saturated, raise `worker_max_instances`; if the forwarders
        are, raise `forwarder_max_replicas`.
      EOT
    }
    invalid_spike = {
      display_name  = "Telemetry: spike of oversize or invalid events"
      severity      = "WARNING"
      duration      = "300s"
      query         = <<-EOT
        label_replace(
          sum(rate(runmat_forwarder_datagrams_dropped_total{reason!="queue_full"}[15m]))
            / sum(rate(runmat_forwarder_datagrams_received_total[15m])) > ${var.alert_invalid_drop_ratio}
          and sum(rate(runmat_forwarder_datagrams_received_total[15m])) > 0.05,
          "source", "forwarder", "", "")
        or label_replace(
          sum(rate(runmat_worker_events_rejected_total{code=~"${local.worker_invalid_codes}"}[15m]))
            / (sum(rate(runmat_worker_events_accepted_total[15m])) + sum(rate(runmat_worker_events_rejected_total{code=~"${local.worker_invalid_codes}"}[15m])))
            > ${var.alert_invalid_drop_ratio},
          "source", "worker", "", "")
      EOT
      documentation = <<-EOT
        More than the alert_invalid_drop_ratio share of incoming events has been
        refused as oversize or malformed for 5 minutes (forwarder: drops by
        `reason` other than queue_full; worker: schema and body
        rejections by `code`).

        First response: the dashboard's "Lost, by reason" panel names the reason
        or code. A new RunMat release sending a changed shape shows up as one
        schema code (e.g. `invalid_value`) right after the release; junk traffic
        shows up as `invalid_json` / `oversize` from few sources. Schema changes
        go into packages/schema; junk needs nothing unless it costs capacity.
      EOT
    }
    kernel_udp_drops = {
      display_name  = "Telemetry: forwarder kernel dropped UDP datagrams"
      severity      = "ERROR"
      duration      = "0s"
      query         = "sum(increase(runmat_forwarder_udp_kernel_drops_total[5m])) > 0"
      documentation = <<-EOT
        The kernel discarded datagrams for the forwarder's socket because its
        receive buffer was full: the forwarder did not read fast enough, and no
        counter inside it saw those events.

        First response: check forwarder CPU (the group autoscales on 60% CPU)
        and `runmat_forwarder_udp_kernel_drops_total` per instance. Sustained drops: raise
        `forwarder_min_replicas` or the machine type; bursts on a VM that logged
        "udp receive buffer smaller than requested": the rmem_max sysctl did not
        apply (see forwarder_recv_buffer_bytes).
      EOT
    }
    worker_5xx = {
      display_name  = "Telemetry: worker 5xx rate"
      severity      = "ERROR"
      duration      = "300s"
      query         = <<-EOT
        sum(rate(runmat_worker_http_request_duration_seconds_count{status_code=~"5.."}[5m]))
          / sum(rate(runmat_worker_http_request_duration_seconds_count[5m])) > ${var.alert_worker_5xx_ratio}
      EOT
      documentation = <<-EOT
        More than the alert_worker_5xx_ratio share of the worker's answers have
        been 5xx for 5 minutes: 503 `queue_full`, `overloaded` (event-loop or
        heap pressure) or `shutting_down`, or 500.

        First response: the dashboard's latency and queue depth panels tell
        overload from a stalled destination. `overloaded`: raise
        `worker_max_instances` or `worker_cpu`; `queue_full`: see the queue-full
        alert; 500: the worker's ERROR log lines carry the error.
      EOT
    }
    queue_near_capacity = {
      display_name  = "Telemetry: a queue is near capacity"
      severity      = "WARNING"
      duration      = "300s"
      query         = <<-EOT
        max by (destination) (runmat_worker_queue_depth / runmat_worker_queue_capacity) > ${var.alert_queue_fill_ratio}
        or label_replace(max(runmat_delivery_pending_events / runmat_delivery_capacity_events) > ${var.alert_queue_fill_ratio}, "bound", "events", "", "")
        or label_replace(max(runmat_delivery_pending_bytes / runmat_delivery_capacity_bytes) > ${var.alert_queue_fill_ratio}, "bound", "bytes", "", "")
      EOT
      documentation = <<-EOT
        A worker destination queue (`destination`) or a forwarder queue (`bound`
        = events or bytes) has been above the alert_queue_fill_ratio share of its
        capacity for 5 minutes. At 100% the queue refuses events (queue-full
        alert).

        First response: the next hop is slower than the traffic. For the
        worker, check PostHog / GA4 delivery (the forwarded panel flattening)
        and its forwarding errors; for the forwarder, check the worker's 5xx
        and latency. Scale the slow hop out before the queue fills.
      EOT
    }
    metrics_missing = {
      display_name  = "Telemetry: no metrics from the worker or the forwarders"
      severity      = "WARNING"
      duration      = "600s"
      query         = <<-EOT
        label_replace(absent(runmat_worker_queue_depth), "source", "worker", "", "")
        or label_replace(absent(runmat_forwarder_datagrams_received_total), "source", "forwarder", "", "")
      EOT
      documentation = <<-EOT
        No sample of the worker's (`source` = worker) or the forwarders'
        (`source` = forwarder) metrics for 10 minutes: every other alert is
        blind.

        First response: for the worker, check the Cloud Run revision's
        `prometheus-sidecar` container logs (config at /etc/rungmp/config.yaml,
        metricWriter role); for the forwarders, `journalctl -u otel-collector`
        on a VM, and whether the VMs run at all (the health check alert).
      EOT
    }
  }

  # The dashboard: one chart per panel, each a PromQL query per line.
  dashboard_panels = [
    {
      title = "Events in, by transport (per second)"
      queries = {
        "UDP datagrams (forwarders)" = "sum(rate(runmat_forwarder_datagrams_received_total[5m]))"
        "HTTP single-event requests" = "sum(rate(runmat_worker_http_request_duration_seconds_count{route=~\"/ingest|/v1/t\"}[5m]))"
      }
    },
    {
      title = "Accepted by the worker, by route (events per second)"
      queries = {
        "accepted" = "sum by (route) (rate(runmat_worker_events_accepted_total[5m]))"
      }
    },
    {
      title = "Deduplicated (events per second)"
      queries = {
        "worker duplicates"       = "sum(rate(runmat_worker_events_duplicate_total[5m]))"
        "forwarder saw duplicate" = "sum(rate(runmat_forwarder_events_duplicate_total[5m]))"
      }
    },
    {
      title = "Forwarded to analytics, by destination (events per second)"
      queries = {
        "forwarded" = "sum by (destination) (rate(runmat_delivery_delivered_events_total[5m]))"
      }
    },
    {
      title = "Lost, by reason (events per second)"
      queries = {
        "forwarder dropped"      = "sum by (reason) (rate(runmat_forwarder_datagrams_dropped_total[5m]))"
        "forwarder failed"       = "sum by (reason) (rate(runmat_delivery_failed_events_total[5m]))"
        "forwarder kernel drops" = "sum(rate(runmat_forwarder_udp_kernel_drops_total[5m]))"
        "worker rejected"        = "sum by (code) (rate(runmat_worker_events_rejected_total[5m]))"
        "worker forward failed"  = "sum by (destination) (rate(runmat_delivery_failed_events_total[5m]))"
      }
    },
    {
      title = "Queue depth (share of capacity)"
      queries = {
        "worker, by destination" = "max by (destination) (runmat_worker_queue_depth / runmat_worker_queue_capacity)"
        "forwarders, events"     = "max(runmat_delivery_pending_events / runmat_delivery_capacity_events)"
        "forwarders, bytes"      = "max(runmat_delivery_pending_bytes / runmat_delivery_capacity_bytes)"
      }
    },
    {
      title = "Worker latency p99, by route (seconds)"
      queries = {
        "p99" = "histogram_quantile(0.99, sum by (le, route) (rate(runmat_worker_http_request_duration_seconds_bucket[5m])))"
      }
    },
    {
      title = "Worker answers, by status (per second)"
      queries = {
        "answers" = "sum by (status_code) (rate(runmat_worker_http_request_duration_seconds_count[5m]))"
      }
    },
  ]

  dashboard_json = jsonencode({
    displayName = "RunMat telemetry pipeline"
    mosaicLayout = {
      columns = 48
      tiles = [for i, panel in local.dashboard_panels : {
        xPos   = (i % 2) * 24
        yPos   = floor(i / 2) * 16
        width  = 24
        height = 16
        widget = {
          title = panel.title
          xyChart = {
            chartOptions = { mode = "COLOR" }
            # A query split `by (...)` keeps the console's legend (its label
            # values); a single line is named after its key.
            dataSets = [for name, query in panel.queries : merge(
              {
                plotType        = "LINE"
                targetAxis      = "Y1"
                timeSeriesQuery = { prometheusQuery = query }
              },
              length(regexall("by \\(", query)) > 0 ? {} : { legendTemplate = name },
            )]
          }
        }
      }]
    }
  })
}
