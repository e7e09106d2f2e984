/// Whether python-zeroconf is installed (`.ci/run` installs it with pip): the mDNS peer of `udp discover` and
/// `udp announce`, started by each test inside its own namespace.
let zeroconfInstalled: Bool = {
    let process = try? Spawned(["/usr/bin/env", "python3", "-c", "import zeroconf"])
    process?.closeStandardInput()
    return process?.wait().status == 0
}()
