"""The simulated Internet: who owns which addresses, which exits are proxies, and intel about them.

Address space is chosen so no generated address belongs to a real customer:
  10.0.0.0/8       home broadband ISPs (and the residential-proxy exits living inside them)
  100.64.0.0/10    mobile carrier CGNAT egress (RFC 6598 - the range carriers really use)
  172.16.0.0/13    corporate NAT ranges            172.24.0.0/13  cloud / hosting providers
  198.18.0.0/15    university networks
  192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24   consumer VPN exits and Tor exits (documentation ranges)
ASNs come from the private-use ranges (64512-65534 and 4200000000+), organisation names are
well-known fictional brands (Contoso, Fabrikam, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from graph.errors import LinkwatchError

from .fmt import ip_strings, ip_to_int
from .sampling import distinct_integers

ISPS = ["Northwind Broadband", "Contoso Cable", "Tailspin Fiber", "Litware Telecom", "Proseware DSL",
        "Adatum Home Internet", "Wingtip Internet", "Woodgrove Net", "Fourth Coffee Fiber", "Coho Communications",
        "Lucerne Broadband", "Alpine Net", "Margie Telecom", "Southridge Cable", "VanArsdel Online",
        "Humongous Fiber"]
CARRIERS = ["Contoso Mobile", "Fabrikam Wireless", "Relecloud Cellular", "Lucerne Mobile"]
# (name, proxy_type): big clouds are "datacenter", small VPS shops "hosting".
CLOUDS = [("Fabrikam Cloud", "datacenter"), ("Relecloud Compute", "datacenter"), ("Blue Yonder Hosting", "hosting"),
          ("Trey Datacenters", "datacenter"), ("Coho Servers", "hosting"), ("Litware VPS", "hosting")]
# Small hosting providers that proxy intel has not flagged: ip_intel lists their /16 with ASN and name and
# proxy_type none, as an ASN database knows every routed range (172.30.0.0/15, robustness worlds only).
UNFLAGGED_HOSTING = ["Wide World Hosting", "Adventure Works Servers"]
VPNS = ["Proseware VPN", "Woodgrove Privacy", "Alpine Secure VPN"]
RESIDENTIAL_PROXIES = ["Meshroute Residential", "PeerGate Proxies", "Homenode Network"]

ASN_ISP, ASN_CARRIER, ASN_CLOUD, ASN_VPN, ASN_UNIVERSITY = 64600, 64700, 64800, 64900, 65000
ASN_UNFLAGGED_HOSTING = 64850
ASN_COMPANY = 4_200_000_000  # companies with their own AS (the large ones)

# Share of a residential proxy network's exits that the intel feed knows about: feeds see
# only the exits that got reported, so a detector cannot rely on proxy_type alone.
RESIDENTIAL_MARKED_SHARE = 0.35
# Share of reseller egress blocks an intel feed has tagged with the reseller's name.
RESELLER_MARKED_SHARE = 0.5

HOME_SPACE = (ip_to_int("10.0.0.0"), 1 << 24)
CGNAT_SPACE = ip_to_int("100.64.0.0")
CORPORATE_SPACE = (ip_to_int("172.16.0.0"), 1 << 19)
CLOUD_SPACE = ip_to_int("172.24.0.0")
UNFLAGGED_HOSTING_SPACE = ip_to_int("172.30.0.0")
UNIVERSITY_SPACE = (ip_to_int("198.18.0.0"), 1 << 17)
VPN_BLOCKS = ["192.0.2.0", "198.51.100.0", "203.0.113.0"]
TOR_EXITS = ip_to_int("203.0.113.240")  # the last 16 documentation addresses


@dataclass
class Egress:
    """Registry of egress pools: each pool is a set of addresses requests may leave from.

    Accounts refer to pools by id; a request picks a uniformly random address of the
    chosen pool, so a pool of one address is a fixed IP and a pool of 100k is rotation.
    """

    _pools: list[np.ndarray] = field(default_factory=list)

    def add(self, addresses: np.ndarray) -> int:
        self._pools.append(np.asarray(addresses, dtype=np.uint32))
        return len(self._pools) - 1

    def add_many(self, addresses: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """Split ``addresses`` into consecutive pools of ``sizes``; returns their ids."""
        first = len(self._pools)
        self._pools.extend(np.split(np.asarray(addresses, dtype=np.uint32), np.cumsum(sizes)[:-1]))
        return np.arange(first, len(self._pools), dtype=np.int32)

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(addresses, start, length) arrays for vectorised lookup."""
        lengths = np.array([len(p) for p in self._pools], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return np.concatenate(self._pools), starts, lengths


@dataclass
class Intel:
    """Rows of ip_intel, accumulated as the world is built."""

    network: list[str] = field(default_factory=list)
    asn: list[int | None] = field(default_factory=list)
    as_org: list[str | None] = field(default_factory=list)
    proxy_type: list[str] = field(default_factory=list)
    proxy_network: list[str | None] = field(default_factory=list)

    def add(self, network: str, asn: int | None, as_org: str | None, proxy_type: str,
            proxy_network: str | None = None) -> None:
        self.network.append(network)
        self.asn.append(asn)
        self.as_org.append(as_org)
        self.proxy_type.append(proxy_type)
        self.proxy_network.append(proxy_network)

    def add_addresses(self, addresses: np.ndarray, asn: np.ndarray, as_org: str | list[str], proxy_type: str,
                      proxy_network: str | None) -> None:
        """Many single-address rows at once (residential proxy exits)."""
        self.network.extend(ip_strings(addresses).to_pylist())
        self.asn.extend(int(a) for a in asn)
        self.as_org.extend(as_org if isinstance(as_org, list) else [as_org] * len(addresses))
        self.proxy_type.extend([proxy_type] * len(addresses))
        self.proxy_network.extend([proxy_network] * len(addresses))

    def table(self) -> pa.Table:
        return pa.table({
            "network": pa.array(self.network, pa.string()),
            "asn": pa.array(self.asn, pa.int64()),
            "as_org": pa.array(self.as_org, pa.string()),
            "proxy_type": pa.array(self.proxy_type, pa.string()),
            "proxy_network": pa.array(self.proxy_network, pa.string()),
        })


def cidr(base: int, prefix: int) -> str:
    return f"{base >> 24 & 255}.{base >> 16 & 255}.{base >> 8 & 255}.{base & 255}/{prefix}"


def isp_of(addresses: np.ndarray) -> np.ndarray:
    """Index into ISPS of home addresses (each ISP owns one /12 of 10.0.0.0/8)."""
    return ((np.asarray(addresses, dtype=np.uint32) - HOME_SPACE[0]) >> 20).astype(np.int64)


class AddressPlan:
    """Hands out addresses from the simulated Internet and records intel about them."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.intel = Intel()
        self._corporate_next = CORPORATE_SPACE[0]
        self._cloud_next = [CLOUD_SPACE + (i << 16) for i in range(len(CLOUDS))]
        self._university_next = UNIVERSITY_SPACE[0]
        self._unflagged_next: dict[int, int] = {}
        for i, name in enumerate(ISPS):
            self.intel.add(cidr(HOME_SPACE[0] + (i << 20), 12), ASN_ISP + i, name, "none")
        for i, name in enumerate(CARRIERS):
            self.intel.add(cidr(CGNAT_SPACE + (i << 20), 12), ASN_CARRIER + i, name, "none")
        for i, (name, kind) in enumerate(CLOUDS):
            self.intel.add(cidr(CLOUD_SPACE + (i << 16), 16), ASN_CLOUD + i, name, kind)

    def home_addresses(self, count: int) -> np.ndarray:
        """Distinct random home broadband addresses (households, residential proxy exits)."""
        if count > HOME_SPACE[1] // 4:
            raise LinkwatchError(f"the simulated home address space cannot hold {count} addresses: lower --accounts")
        return (HOME_SPACE[0] + distinct_integers(self.rng, HOME_SPACE[1], count)).astype(np.uint32)

    def cgnat_pool(self, carrier: int, size: int) -> np.ndarray:
        """The public side of a carrier's CGNAT: a few addresses shared by every subscriber."""
        return (CGNAT_SPACE + (carrier << 20) + np.arange(size)).astype(np.uint32)

    def corporate_block(self, company: str, employees: int, own_asn: int | None) -> np.ndarray:
        """A company's NAT range: /29 (8 addresses), /28 for 100+ employees."""
        prefix = 28 if employees >= 100 else 29
        size = 1 << (32 - prefix)
        base = -(-self._corporate_next // size) * size  # CIDR blocks start on a multiple of their size
        if base + size > CORPORATE_SPACE[0] + CORPORATE_SPACE[1]:
            raise LinkwatchError("too many companies for the simulated corporate address space: lower --accounts")
        self._corporate_next = base + size
        isp = int(self.rng.integers(len(ISPS)))
        if own_asn is None:
            self.intel.add(cidr(base, prefix), ASN_ISP + isp, f"{ISPS[isp]} Business", "none")
        else:
            self.intel.add(cidr(base, prefix), own_asn, company, "none")
        return (base + np.arange(size)).astype(np.uint32)

    def university_block(self, name: str, index: int) -> np.ndarray:
        """A campus network (/22) whose students leave through 64 NAT addresses."""
        base = self._university_next
        if base + 1024 > UNIVERSITY_SPACE[0] + UNIVERSITY_SPACE[1]:
            raise LinkwatchError("too many universities for the simulated address space: lower --accounts")
        self._university_next += 1024
        self.intel.add(cidr(base, 22), ASN_UNIVERSITY + index, name, "none")
        return (base + np.arange(64)).astype(np.uint32)

    def cloud_block(self, provider: int, size: int, proxy_network: str | None = None) -> np.ndarray:
        """A tenant's addresses at a cloud provider (CI runners, agent backends, operators, resellers)."""
        blocks = max(1, -(-size // 8))
        base = self._cloud_next[provider]
        if base + blocks * 8 > CLOUD_SPACE + ((provider + 1) << 16):
            raise LinkwatchError("a simulated cloud provider ran out of addresses: lower --accounts")
        self._cloud_next[provider] += blocks * 8
        if proxy_network is not None:
            name, kind = CLOUDS[provider]
            for b in range(blocks):
                self.intel.add(cidr(base + 8 * b, 29), ASN_CLOUD + provider, name, "hosting", proxy_network)
        return (base + np.arange(size)).astype(np.uint32)

    def unflagged_hosting_block(self, prefix: int) -> tuple[np.ndarray, str, str]:
        """A whole aligned /``prefix`` (22-24) of a small hosting provider no proxy feed has flagged.

        Returns (addresses, CIDR, provider). The provider's /16 gets one intel row (ASN, name, proxy_type
        ``none``) the first time it is used; nothing marks the block itself.
        """
        # a provider no operator uses yet when there is one; other tenants' /22s lie in between
        unused = [p for p in range(len(UNFLAGGED_HOSTING)) if p not in self._unflagged_next]
        provider = int(self.rng.choice(unused)) if unused else int(self.rng.integers(len(UNFLAGGED_HOSTING)))
        base16 = UNFLAGGED_HOSTING_SPACE + (provider << 16)
        if provider not in self._unflagged_next:
            self._unflagged_next[provider] = base16
            self.intel.add(cidr(base16, 16), ASN_UNFLAGGED_HOSTING + provider, UNFLAGGED_HOSTING[provider], "none")
        size = 1 << (32 - prefix)
        start = (-(-self._unflagged_next[provider] >> 10) + int(self.rng.integers(1, 9))) << 10
        base = -(-start // size) * size
        if base + size > base16 + (1 << 16):
            raise LinkwatchError("a simulated hosting provider ran out of addresses: fewer hosting operators")
        self._unflagged_next[provider] = base + size
        return (base + np.arange(size)).astype(np.uint32), cidr(base, prefix), UNFLAGGED_HOSTING[provider]

    def vpn_pools(self) -> list[np.ndarray]:
        """Exit addresses of each consumer VPN brand (one documentation /24 each, Tor excluded)."""
        pools = []
        for i, (name, block) in enumerate(zip(VPNS, VPN_BLOCKS)):
            base = ip_to_int(block)
            size = 240 if block == "203.0.113.0" else 256
            for start in range(0, size, 16):
                self.intel.add(cidr(base + start, 28), ASN_VPN + i, name, "vpn", name)
            pools.append((base + np.arange(size)).astype(np.uint32))
        return pools

    def tor_exits(self) -> np.ndarray:
        exits = (TOR_EXITS + np.arange(16)).astype(np.uint32)
        for address in exits:
            self.intel.add(cidr(int(address), 32).removesuffix("/32"), None, None, "tor", "tor")
        return exits

    def residential_networks(self, sizes: list[int]) -> list[np.ndarray]:
        """Exits of each residential proxy network: home addresses across every ISP, partly known to intel.

        Networks are disjoint, so an intel row never names two networks for one address.
        """
        exits = np.split(self.home_addresses(sum(sizes)), np.cumsum(sizes)[:-1])
        for index, network in enumerate(exits):
            marked = network[self.rng.random(len(network)) < RESIDENTIAL_MARKED_SHARE]
            isp = isp_of(marked)
            self.intel.add_addresses(marked, ASN_ISP + isp, [ISPS[i] for i in isp], "residential",
                                     RESIDENTIAL_PROXIES[index])
        return exits
