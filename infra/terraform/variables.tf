variable "project_id" {
  type        = string
  description = "Google Cloud project that hosts the telemetry pipeline."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id (6-30 chars: lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  type        = string
  description = "Region for Cloud Run, the forwarder instance group, its load balancer and Artifact Registry."
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must look like us-central1."
  }
}

variable "forwarder_zones" {
  type        = list(string)
  description = "Zones of var.region the forwarder group spreads over. Empty lets Google pick (up to three zones)."
  default     = []

  validation {
    condition     = length(var.forwarder_zones) != 1 && alltrue([for z in var.forwarder_zones : can(regex("^[a-z]+-[a-z]+[0-9]+-[a-z]$", z))])
    error_message = "forwarder_zones must be empty or list at least two zones such as us-central1-a."
  }
}

variable "primary_domain" {
  type        = string
  description = "Primary telemetry domain. Gets a Cloud DNS zone, the HTTPS endpoint at its apex and udp.<domain> for the forwarder."
  default     = "telemetry.runmat.com"

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", var.primary_domain))
    error_message = "primary_domain must be a lowercase DNS name without a trailing dot."
  }
}

variable "legacy_domain" {
  type        = string
  description = "Legacy telemetry domain still used by older RunMat builds. Same records as the primary domain."
  default     = "telemetry.runmat.org"

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", var.legacy_domain))
    error_message = "legacy_domain must be a lowercase DNS name without a trailing dot."
  }
}

variable "https_hosts" {
  type        = map(list(string))
  description = "HTTPS hostnames the load balancer answers, each with the worker paths it routes there; any other host or path gets a 404 from the load balancer. Names in primary_domain or legacy_domain get DNS records here; the others appear in the operator_dns_records output. Change it together with the domains."
  default = {
    "api.runmat.com"       = ["/v1/t"]
    "telemetry.runmat.com" = ["/ingest", "/v1/t", "/v1/batch"]
    "telemetry.runmat.org" = ["/ingest", "/v1/t", "/v1/batch"]
  }

  # One Google-managed certificate per hostname; a target HTTPS proxy takes at most 15.
  validation {
    condition     = length(var.https_hosts) >= 1 && length(var.https_hosts) <= 15
    error_message = "https_hosts must list between 1 and 15 hostnames."
  }

  validation {
    condition     = alltrue([for h in keys(var.https_hosts) : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", h))])
    error_message = "https_hosts keys must be lowercase DNS names without a trailing dot or wildcard."
  }

  # Only the ingest routes: /healthz, /readyz and /metrics stay off the public hostnames.
  validation {
    condition     = alltrue([for paths in values(var.https_hosts) : length(paths) > 0 && alltrue([for p in paths : contains(["/ingest", "/v1/t", "/v1/batch"], p)])])
    error_message = "Each hostname needs at least one path, and every path must be one of the worker routes /ingest, /v1/t, /v1/batch."
  }
}

variable "cors_origins" {
  type        = list(string)
  description = "CORS_ORIGINS for the worker: the exact browser origins (scheme://host[:port]) allowed to post to /ingest and /v1/t cross-origin. Empty leaves CORS_ORIGINS unset: no browser origin is allowed."
  default     = []

  validation {
    condition     = !contains(var.cors_origins, "*")
    error_message = "cors_origins must list exact origins; \"*\" is refused."
  }

  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?$", o))])
    error_message = "Each cors_origins entry must be an origin such as https://app.runmat.com or http://localhost:3000: lowercase scheme and host, optional port, no path, query or trailing slash."
  }

  validation {
    # Browsers send an origin without its scheme's default port, so such an
    # entry could never match; the worker refuses it at start.
    condition = alltrue([for o in var.cors_origins : length(regexall(":[0-9]+$", o)) == 0 ? true : (
      tonumber(regex(":([0-9]+)$", o)[0]) >= 1 &&
      tonumber(regex(":([0-9]+)$", o)[0]) <= 65535 &&
      !(startswith(o, "https://") && endswith(o, ":443")) &&
      !(startswith(o, "http://") && endswith(o, ":80"))
    )])
    error_message = "A cors_origins port must be 1-65535 and not the scheme's default (:443 for https, :80 for http): browsers leave the default port out of Origin."
  }
}

variable "artifact_repository_id" {
  type        = string
  description = "Artifact Registry repository (Docker format) holding the worker and forwarder images."
  default     = "telemetry"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.artifact_repository_id))
    error_message = "artifact_repository_id must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "image_retention_count" {
  type        = number
  description = "Most recent image versions per package the registry cleanup policy always keeps (rollback targets)."
  default     = 20

  validation {
    condition     = var.image_retention_count >= 5 && floor(var.image_retention_count) == var.image_retention_count
    error_message = "image_retention_count must be a whole number of at least 5."
  }
}

variable "worker_image" {
  type        = string
  description = "Worker image as <registry>/<path>:<tag> or <registry>/<path>@sha256:<digest>, normally tagged with the commit SHA. `latest` is rejected."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.worker_image)) && !can(regex(":latest$", var.worker_image))
    error_message = "worker_image needs an explicit tag other than latest, or a sha256 digest."
  }
}

variable "forwarder_image" {
  type        = string
  description = "UDP forwarder image as <registry>/<path>:<tag> or <registry>/<path>@sha256:<digest>, normally tagged with the commit SHA. `latest` is rejected."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.forwarder_image)) && !can(regex(":latest$", var.forwarder_image))
    error_message = "forwarder_image needs an explicit tag other than latest, or a sha256 digest."
  }
}

variable "worker_min_instances" {
  type        = number
  description = "Cloud Run minimum instances for the worker. 1 keeps a warm instance so bursts after idle periods are not met by cold starts."
  default     = 1

  validation {
    condition     = var.worker_min_instances >= 0 && floor(var.worker_min_instances) == var.worker_min_instances
    error_message = "worker_min_instances must be a whole number >= 0."
  }
}

variable "worker_max_instances" {
  type        = number
  description = "Cloud Run maximum instances for the worker; caps spend and the request rate PostHog and GA4 see."
  default     = 10

  validation {
    condition     = var.worker_max_instances >= 1 && var.worker_max_instances <= 1000 && floor(var.worker_max_instances) == var.worker_max_instances
    error_message = "worker_max_instances must be a whole number between 1 and 1000."
  }
}

variable "worker_concurrency" {
  type        = number
  description = "Concurrent requests per worker instance before Cloud Run scales out."
  default     = 80

  validation {
    condition     = var.worker_concurrency >= 1 && var.worker_concurrency <= 1000
    error_message = "worker_concurrency must be between 1 and 1000."
  }
}

variable "worker_cpu" {
  type        = string
  description = "CPU limit per worker instance (Cloud Run notation, e.g. \"1\" or \"2\")."
  default     = "1"

  validation {
    condition     = contains(["1", "2", "4", "6", "8"], var.worker_cpu)
    error_message = "worker_cpu must be one of 1, 2, 4, 6, 8."
  }
}

variable "worker_memory" {
  type        = string
  description = "Memory limit per worker instance (Kubernetes quantity, e.g. 512Mi). Also the worker's MEMORY_LIMIT_MIB: its forward queues (bytes), dedupe window and V8 heap are sized from it. 512Mi: the worker bench's 5x overload peaked at 295-303 MiB (58-59%) with this budget."
  default     = "512Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.worker_memory))
    error_message = "worker_memory must be a quantity such as 512Mi or 1Gi."
  }

  validation {
    # An idle worker is ~96 MiB; below 256 MiB it would shed most traffic on memory alone.
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.worker_memory)) ? (endswith(var.worker_memory, "Gi") ? tonumber(trimsuffix(var.worker_memory, "Gi")) * 1024 : tonumber(trimsuffix(var.worker_memory, "Mi"))) >= 256 : true
    error_message = "worker_memory must be at least 256Mi."
  }
}

variable "dedupe_redis_enabled" {
  type        = bool
  description = "Share the worker's dedupe across Cloud Run instances through Memorystore for Redis (AUTH, in-transit TLS, reached by Direct VPC egress). Without it each instance dedupes alone, and an event whose UDP and HTTP copies land on different instances reaches GA4 twice."
  default     = true
}

variable "dedupe_redis_tier" {
  type        = string
  description = "Memorystore tier: BASIC (one node; during maintenance or a failure the workers fail open to their local windows) or STANDARD_HA (a replica in another zone, automatic failover, about 1.3x the price)."
  default     = "BASIC"

  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.dedupe_redis_tier)
    error_message = "dedupe_redis_tier must be BASIC or STANDARD_HA."
  }
}

variable "dedupe_redis_memory_size_gb" {
  type        = number
  description = "Memorystore capacity in GB (1 is the smallest). A claim costs ~150 bytes in Redis and lives for DEDUPE_WINDOW_MS (10 min): 1 GB holds ~6 million, a window of ~10,000 distinct events/s sustained; see infra/README.md, Cost and sizing."
  default     = 1

  validation {
    condition     = var.dedupe_redis_memory_size_gb >= 1 && var.dedupe_redis_memory_size_gb <= 300 && floor(var.dedupe_redis_memory_size_gb) == var.dedupe_redis_memory_size_gb
    error_message = "dedupe_redis_memory_size_gb must be a whole number between 1 and 300."
  }
}

variable "dedupe_redis_version" {
  type        = string
  description = "Memorystore Redis version (REDIS_7_2, REDIS_7_0, REDIS_6_X): anything with SET NX PX and TLS."
  default     = "REDIS_7_2"

  validation {
    condition     = can(regex("^REDIS_[6-9]_[0-9X]$", var.dedupe_redis_version))
    error_message = "dedupe_redis_version must be REDIS_6_X or later (e.g. REDIS_7_2): TLS needs Redis 6."
  }
}

variable "worker_subnet_cidr" {
  type        = string
  description = "Subnet the worker's Cloud Run instances take addresses from for Direct VPC egress (to Memorystore). Cloud Run uses up to two addresses per instance while scaling; a /24 leaves room far beyond worker_max_instances."
  default     = "10.20.1.0/24"

  validation {
    condition     = can(cidrhost(var.worker_subnet_cidr, 0)) ? tonumber(split("/", var.worker_subnet_cidr)[1]) <= 26 : false
    error_message = "worker_subnet_cidr must be an IPv4 CIDR of /26 or larger (Direct VPC egress needs at least a /26)."
  }
}

variable "worker_trust_proxy" {
  type        = string
  description = "TRUST_PROXY for the worker: proxy hops in front of it. Through the HTTPS load balancer X-Forwarded-For ends in <client-ip>,<lb-ip> and Cloud Run's front end is the socket peer, so 2 hops yields the real client for per-IP rate limits."
  default     = "2"

  validation {
    condition     = can(regex("^([0-9]+|true|false)$", var.worker_trust_proxy))
    error_message = "worker_trust_proxy must be a hop count, true or false."
  }
}

variable "posthog_host" {
  type        = string
  description = "PostHog ingestion host the worker forwards to."
  default     = "https://us.i.posthog.com"

  validation {
    condition     = can(regex("^https://[^/]+$", var.posthog_host))
    error_message = "posthog_host must be an https:// origin without a path."
  }
}

variable "ga_measurement_id" {
  type        = string
  description = "GA4 measurement id (G-XXXXXXX). Empty disables GA4 forwarding; when set, the ga-api-secret secret needs a version."
  default     = ""

  validation {
    condition     = var.ga_measurement_id == "" || can(regex("^G-[A-Z0-9]{4,20}$", var.ga_measurement_id))
    error_message = "ga_measurement_id must be empty or look like G-XXXXXXX."
  }
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL for the worker and the forwarder."
  default     = "info"

  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace."
  }
}

variable "forwarder_machine_type" {
  type        = string
  description = "Machine type of forwarder VMs."
  default     = "e2-small"
}

variable "forwarder_min_replicas" {
  type        = number
  description = "Minimum forwarder VMs. At least two so one zone or one VM being replaced does not drop UDP traffic."
  default     = 2

  validation {
    condition     = var.forwarder_min_replicas >= 2 && floor(var.forwarder_min_replicas) == var.forwarder_min_replicas
    error_message = "forwarder_min_replicas must be a whole number >= 2."
  }
}

variable "forwarder_max_replicas" {
  type        = number
  description = "Maximum forwarder VMs the autoscaler may add under CPU load."
  default     = 6

  validation {
    condition     = var.forwarder_max_replicas >= 2 && var.forwarder_max_replicas <= 100
    error_message = "forwarder_max_replicas must be between 2 and 100."
  }
}

variable "forwarder_concurrency" {
  type        = number
  description = "FORWARDER_CONCURRENCY: concurrent batch POSTs each forwarder makes to the worker."
  default     = 8

  validation {
    condition     = var.forwarder_concurrency >= 1 && var.forwarder_concurrency <= 256
    error_message = "forwarder_concurrency must be between 1 and 256."
  }
}

variable "forwarder_recv_buffer_bytes" {
  type        = number
  description = "UDP_RECV_BUFFER_BYTES, the forwarder's socket receive buffer; the VMs' net.core.rmem_max is set to the same value so the kernel grants it. The default queues about a thousand 16 KiB datagrams even though each arrives as a dozen IP fragments whose buffers the kernel charges in full."
  default     = 33554432

  validation {
    # At least 64 of the largest datagrams; at most what the forwarder accepts.
    condition     = var.forwarder_recv_buffer_bytes >= 64 * local.max_datagram_bytes && var.forwarder_recv_buffer_bytes <= 1073741824 && floor(var.forwarder_recv_buffer_bytes) == var.forwarder_recv_buffer_bytes
    error_message = "forwarder_recv_buffer_bytes must be a whole number of bytes between 1 MiB (64 datagrams of 16 KiB) and 1 GiB (1073741824)."
  }
}

variable "secret_values_version" {
  type        = number
  description = "Bump to push new values of the secret variables below to Secret Manager (write-only arguments are only re-sent when this changes)."
  default     = 1
}

variable "worker_ingestion_keys" {
  type        = string
  description = "INGESTION_KEY for the worker: one key or several comma-separated during rotation. null leaves secret versions to `gcloud secrets versions add`."
  default     = null
  sensitive   = true
}

variable "forwarder_ingestion_key" {
  type        = string
  description = "The single key the forwarder sends (TELEMETRY_INGESTION_KEY); must be one of worker_ingestion_keys. null leaves versions to gcloud."
  default     = null
  sensitive   = true
}

variable "posthog_api_key" {
  type        = string
  description = "PostHog project API key (POSTHOG_API_KEY). null leaves versions to gcloud."
  default     = null
  sensitive   = true
}

variable "ga_api_secret" {
  type        = string
  description = "GA4 Measurement Protocol API secret (GA_API_SECRET). null leaves versions to gcloud."
  default     = null
  sensitive   = true
}

variable "gmp_sidecar_image" {
  type        = string
  description = "Google's Managed Service for Prometheus sidecar for Cloud Run (a collector container in the worker's instances that scrapes the worker's metrics port). Pinned by tag or digest; `latest` is rejected."
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.gmp_sidecar_image)) && !can(regex(":latest$", var.gmp_sidecar_image))
    error_message = "gmp_sidecar_image needs an explicit tag other than latest, or a sha256 digest."
  }
}

variable "forwarder_collector_image" {
  type        = string
  description = "Google-Built OpenTelemetry Collector run next to the forwarder on each VM (Container-Optimized OS has no Ops Agent): it scrapes the forwarder's /metrics into Managed Service for Prometheus. Pinned by tag or digest; `latest` is rejected."
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/google-cloud-opentelemetry-collector/otelcol-google:0.130.0"

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.forwarder_collector_image)) && !can(regex(":latest$", var.forwarder_collector_image))
    error_message = "forwarder_collector_image needs an explicit tag other than latest, or a sha256 digest."
  }
}

variable "metrics_scrape_interval_seconds" {
  type        = number
  description = "How often the worker's sidecar and the forwarders' collectors scrape /metrics (seconds). Alert windows are several times this."
  default     = 30

  validation {
    condition     = var.metrics_scrape_interval_seconds >= 10 && var.metrics_scrape_interval_seconds <= 120 && floor(var.metrics_scrape_interval_seconds) == var.metrics_scrape_interval_seconds
    error_message = "metrics_scrape_interval_seconds must be a whole number between 10 and 120."
  }
}

variable "alert_notification_emails" {
  type        = list(string)
  description = "Email addresses that get every alert (one Cloud Monitoring email notification channel each). Empty and with no alert_notification_channels, alerts open incidents in the console only."
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Each alert_notification_emails entry must be an email address."
  }
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "Existing Cloud Monitoring notification channels (projects/<project>/notificationChannels/<id>: PagerDuty, Slack, SMS...) that get every alert, next to alert_notification_emails."
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "Each alert_notification_channels entry must look like projects/<project>/notificationChannels/<id>."
  }
}

variable "alert_worker_5xx_ratio" {
  type        = number
  description = "Share of the worker's answers that may be 5xx (503 queue_full / overloaded / shutting_down, 500) over 5 minutes before the 5xx alert fires."
  default     = 0.01

  validation {
    condition     = var.alert_worker_5xx_ratio > 0 && var.alert_worker_5xx_ratio < 1
    error_message = "alert_worker_5xx_ratio must be between 0 and 1 (exclusive)."
  }
}

variable "alert_invalid_drop_ratio" {
  type        = number
  description = "Share of incoming events that may be refused as oversize or invalid (forwarder drops, worker schema rejections) over 15 minutes before the spike alert fires."
  default     = 0.05

  validation {
    condition     = var.alert_invalid_drop_ratio > 0 && var.alert_invalid_drop_ratio < 1
    error_message = "alert_invalid_drop_ratio must be between 0 and 1 (exclusive)."
  }
}

variable "alert_queue_fill_ratio" {
  type        = number
  description = "Fill level of a worker destination queue or a forwarder queue (share of its capacity) that raises the queue-near-capacity alert."
  default     = 0.8

  validation {
    condition     = var.alert_queue_fill_ratio > 0 && var.alert_queue_fill_ratio < 1
    error_message = "alert_queue_fill_ratio must be between 0 and 1 (exclusive)."
  }
}
