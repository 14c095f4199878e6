# The HTTPS hostnames and paths clients use, derived from var.https_hosts only
# (no resources), so tests can evaluate them with `terraform console`.
locals {
  # Paths deduplicated and sorted, so hosts serving the same set compare equal.
  https_hosts = { for host, paths in var.https_hosts : host => sort(distinct(paths)) }

  # Hosts serving the same paths share one URL map path matcher.
  https_path_matchers = {
    for key, hosts in { for host, paths in local.https_hosts : join(" ", paths) => host... } :
    "paths-${substr(sha256(key), 0, 10)}" => { hosts = sort(hosts), paths = split(" ", key) }
  }

  # Every host and path the load balancer sends to the worker.
  https_routes = flatten([
    for host, paths in local.https_hosts : [for path in paths : { host = host, path = path }]
  ])

  # Hostname => key of the zone this stack manages that holds it (the domain
  # itself or a name under it), or null when the zone belongs to someone else.
  # Should one domain sit inside the other, the longer (closer) one wins.
  https_host_zone = {
    for host in keys(local.https_hosts) : host => try(split(" ", reverse(sort([
      for key, domain in local.domains : format("%04d %s", length(domain), key)
      if host == domain || endswith(host, ".${domain}")
    ]))[0])[1], null)
  }

  # Records Terraform creates, and names the operator must point by hand.
  https_managed_hosts  = { for host, zone in local.https_host_zone : host => zone if zone != null }
  https_external_hosts = sort([for host, zone in local.https_host_zone : host if zone == null])
}
