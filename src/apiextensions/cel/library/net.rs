//! kube's IP and CIDR libraries: `ip(s)`, `isIP(s)`, `ip.isCanonical(s)` and, on an IP,
//! `family()`, `isUnspecified()`, `isLoopback()`, `isLinkLocalMulticast()`,
//! `isLinkLocalUnicast()`, `isGlobalUnicast()`; `cidr(s)`, `isCIDR(s)` and, on a CIDR,
//! `containsIP(ip|s)`, `containsCIDR(cidr|s)`, `ip()`, `masked()`, `prefixLength()`.
//! As in kube, IPv4-mapped IPv6 addresses and zones are refused.

use std::net::IpAddr;

use cel::common::types::DYN_TYPE;
use cel::objects::Opaque;
use cel::{Env, ExecutionError, Value};

use super::{error, global, lift, member, opaque, string, wrap};

/// An IP address as a CEL value (`net.IP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CelIp(pub IpAddr);

impl Opaque for CelIp {
    fn runtime_type_name(&self) -> &str {
        "net.IP"
    }
}

/// A CIDR as a CEL value (`net.CIDR`): the address as written and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CelCidr {
    pub ip: IpAddr,
    pub prefix: u8,
}

impl Opaque for CelCidr {
    fn runtime_type_name(&self) -> &str {
        "net.CIDR"
    }
}

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    global(env, "ip", 1, lift!(ip))?;
    global(env, "isIP", 1, lift!(is_ip))?;
    global(env, "ip.isCanonical", 1, lift!(is_canonical))?;
    global(env, "cidr", 1, lift!(cidr))?;
    global(env, "isCIDR", 1, lift!(is_cidr))?;
    member(env, "family", DYN_TYPE, 0, lift!(family))?;
    member(env, "isUnspecified", DYN_TYPE, 0, lift!(is_unspecified))?;
    member(env, "isLoopback", DYN_TYPE, 0, lift!(is_loopback))?;
    member(env, "isLinkLocalMulticast", DYN_TYPE, 0, lift!(is_link_local_multicast))?;
    member(env, "isLinkLocalUnicast", DYN_TYPE, 0, lift!(is_link_local_unicast))?;
    member(env, "isGlobalUnicast", DYN_TYPE, 0, lift!(is_global_unicast))?;
    member(env, "containsIP", DYN_TYPE, 1, lift!(contains_ip))?;
    member(env, "containsCIDR", DYN_TYPE, 1, lift!(contains_cidr))?;
    member(env, "ip", DYN_TYPE, 0, lift!(cidr_ip))?;
    member(env, "masked", DYN_TYPE, 0, lift!(masked))?;
    member(env, "prefixLength", DYN_TYPE, 0, lift!(prefix_length))?;
    Ok(())
}

/// Parses an address as kube's `ip()` accepts it.
fn parse_ip(text: &str) -> Result<IpAddr, String> {
    if text.contains('%') {
        return Err(format!("IP address with zone value is not allowed: {text}"));
    }
    let ip: IpAddr = text
        .parse()
        .map_err(|_| format!("IP Address {text:?} parse error during conversion from string"))?;
    if let IpAddr::V6(v6) = ip
        && v6.to_ipv4_mapped().is_some()
    {
        return Err(format!("IPv4-mapped IPv6 address {text:?} is not allowed"));
    }
    Ok(ip)
}

fn parse_cidr(text: &str) -> Result<CelCidr, String> {
    let (address, prefix) = text.split_once('/').ok_or_else(|| {
        format!("network address parse error during conversion from string: {text:?}")
    })?;
    let ip = parse_ip(address)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u8 =
        prefix.parse().ok().filter(|p| *p <= max && !prefix.starts_with('+')).ok_or_else(|| {
            format!("network address parse error during conversion from string: {text:?}")
        })?;
    Ok(CelCidr { ip, prefix })
}

fn ip(args: &[Value]) -> Result<Value, ExecutionError> {
    parse_ip(string("ip", &args[0])?).map(|ip| wrap(CelIp(ip))).map_err(|e| error("ip", e))
}

fn is_ip(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse_ip(string("isIP", &args[0])?).is_ok()))
}

fn is_canonical(args: &[Value]) -> Result<Value, ExecutionError> {
    let text = string("ip.isCanonical", &args[0])?;
    let ip = parse_ip(text).map_err(|e| error("ip.isCanonical", e))?;
    Ok(Value::Bool(ip.to_string() == text))
}

fn cidr(args: &[Value]) -> Result<Value, ExecutionError> {
    parse_cidr(string("cidr", &args[0])?).map(wrap).map_err(|e| error("cidr", e))
}

fn is_cidr(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse_cidr(string("isCIDR", &args[0])?).is_ok()))
}

fn this_ip(function: &str, args: &[Value]) -> Result<IpAddr, ExecutionError> {
    Ok(opaque::<CelIp>(function, &args[0])?.0)
}

fn family(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Int(if this_ip("family", args)?.is_ipv4() { 4 } else { 6 }))
}

fn is_unspecified(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(this_ip("isUnspecified", args)?.is_unspecified()))
}

fn is_loopback(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(this_ip("isLoopback", args)?.is_loopback()))
}

fn link_local_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => v6.octets()[0] == 0xff && v6.octets()[1] & 0x0f == 0x02,
    }
}

fn link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..2] == [169, 254],
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn is_link_local_multicast(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(link_local_multicast(this_ip("isLinkLocalMulticast", args)?)))
}

fn is_link_local_unicast(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(link_local_unicast(this_ip("isLinkLocalUnicast", args)?)))
}

/// Go's `IP.IsGlobalUnicast`: none of unspecified, loopback, multicast, link-local unicast,
/// IPv4 broadcast.
fn is_global_unicast(args: &[Value]) -> Result<Value, ExecutionError> {
    let ip = this_ip("isGlobalUnicast", args)?;
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    Ok(Value::Bool(
        !(ip.is_unspecified()
            || ip.is_loopback()
            || ip.is_multicast()
            || link_local_unicast(ip)
            || broadcast),
    ))
}

fn this_cidr(function: &str, args: &[Value]) -> Result<CelCidr, ExecutionError> {
    Ok(*opaque::<CelCidr>(function, &args[0])?)
}

/// The first `prefix` bits of `ip`, the rest zero.
fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = if prefix == 0 { 0 } else { bits & (u32::MAX << (32 - u32::from(prefix))) };
            IpAddr::V4(kept.into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept =
                if prefix == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(prefix))) };
            IpAddr::V6(kept.into())
        }
    }
}

fn contains(network: CelCidr, ip: IpAddr) -> bool {
    network.ip.is_ipv4() == ip.is_ipv4()
        && mask(ip, network.prefix) == mask(network.ip, network.prefix)
}

fn contains_ip(args: &[Value]) -> Result<Value, ExecutionError> {
    let network = this_cidr("containsIP", args)?;
    let ip = match &args[1] {
        Value::String(s) => parse_ip(s).map_err(|e| error("containsIP", e))?,
        other => opaque::<CelIp>("containsIP", other)?.0,
    };
    Ok(Value::Bool(contains(network, ip)))
}

fn contains_cidr(args: &[Value]) -> Result<Value, ExecutionError> {
    let network = this_cidr("containsCIDR", args)?;
    let other = match &args[1] {
        Value::String(s) => parse_cidr(s).map_err(|e| error("containsCIDR", e))?,
        other => *opaque::<CelCidr>("containsCIDR", other)?,
    };
    Ok(Value::Bool(other.prefix >= network.prefix && contains(network, other.ip)))
}

fn cidr_ip(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(wrap(CelIp(this_cidr("ip", args)?.ip)))
}

fn masked(args: &[Value]) -> Result<Value, ExecutionError> {
    let network = this_cidr("masked", args)?;
    Ok(wrap(CelCidr { ip: mask(network.ip, network.prefix), prefix: network.prefix }))
}

fn prefix_length(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Int(i64::from(this_cidr("prefixLength", args)?.prefix)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, eval};

    #[test]
    fn ips() {
        check("isIP('10.0.0.1') && isIP('fe80::1') && !isIP('10.0.0') && !isIP('::ffff:1.2.3.4')");
        check("ip('10.0.0.1').family() == 4 && ip('::1').family() == 6 && ip('::1').isLoopback()");
        check("ip('0.0.0.0').isUnspecified() && ip('169.254.1.1').isLinkLocalUnicast()");
        check("ip('224.0.0.5').isLinkLocalMulticast() && ip('8.8.8.8').isGlobalUnicast()");
        check(
            "ip('10.0.0.1') == ip('10.0.0.1') && ip.isCanonical('::1') && !ip.isCanonical('0:0::1')",
        );
        assert!(eval("ip('nope')").is_err());
    }

    #[test]
    fn cidrs() {
        check("isCIDR('10.0.0.0/8') && !isCIDR('10.0.0.0/33') && !isCIDR('10.0.0.0')");
        check(
            "cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))",
        );
        check(
            "cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && !cidr('10.1.0.0/16').containsCIDR('10.0.0.0/8')",
        );
        check(
            "cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8') && cidr('10.1.2.3/8').prefixLength() == 8",
        );
        check("cidr('10.1.2.3/8').ip() == ip('10.1.2.3')");
    }
}
