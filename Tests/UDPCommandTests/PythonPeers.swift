/// Whether python-zeroconf is installed (`.ci/run` installs it with pip): the mDNS peer of `udp discover` and
/// `udp announce`, started by each test inside its own namespace.
let zeroconfInstalled: Bool = {
    let process = try? Spawned(["/usr/bin/env", "python3", "-c", "import zeroconf"])
    process?.closeStandardInput()
    return process?.wait().status == 0
}()

/// Whether async-upnp-client is installed (`.ci/run` installs it with pip): the SSDP peer of `udp discover
/// --ssdp` and `udp announce --ssdp`, started by each test inside its own namespace.
let upnpClientInstalled: Bool = {
    let process = try? Spawned(["/usr/bin/env", "python3", "-c", "import async_upnp_client.server"])
    process?.closeStandardInput()
    return process?.wait().status == 0
}()
