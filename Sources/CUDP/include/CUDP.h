// C helpers the Swift code cannot import directly: the GNU-only batch calls (recvmmsg/sendmmsg), the CMSG_*
// macros, Linux-only option numbers.
#ifndef CUDP_H
#define CUDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

/// Same layout as Linux's `struct mmsghdr`, which glibc declares only under _GNU_SOURCE.
struct cudp_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// Same layout as `struct in6_pktinfo` (glibc: _GNU_SOURCE only).
struct cudp_in6_pktinfo {
    struct in6_addr ipi6_addr;
    unsigned int ipi6_ifindex;
};

/// recvmmsg(2); returns -1 with errno set, or ENOSYS where the platform has no such call.
int cudp_recvmmsg(int fd, struct cudp_mmsghdr *vector, unsigned int count, int flags);
/// sendmmsg(2); returns -1 with errno set, or ENOSYS where the platform has no such call.
int cudp_sendmmsg(int fd, struct cudp_mmsghdr *vector, unsigned int count, int flags);

struct cmsghdr *cudp_cmsg_firsthdr(const struct msghdr *msg);
struct cmsghdr *cudp_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg);
void *cudp_cmsg_data(struct cmsghdr *cmsg);
size_t cudp_cmsg_space(size_t payload);
size_t cudp_cmsg_len(size_t payload);

// Option numbers that are Linux-only, or hidden behind _GNU_SOURCE; -1 where the platform lacks them.
extern const int cudp_MSG_TRUNC;
extern const int cudp_MSG_DONTWAIT;
extern const int cudp_MSG_WAITFORONE;
extern const int cudp_MSG_NOSIGNAL;
extern const int cudp_IPPROTO_UDP;
extern const int cudp_IPPROTO_IP;
extern const int cudp_IPPROTO_IPV6;
extern const int cudp_SO_RXQ_OVFL;
/// SO_MEMINFO: a socket's memory counters, its drops (`sk_drops`) among them.
extern const int cudp_SO_MEMINFO;
extern const int cudp_SO_REUSEPORT;
extern const int cudp_IP_PKTINFO;
/// IP_RECVTTL asks for, and IP_TTL carries, the TTL of each received IPv4 datagram (an int).
extern const int cudp_IP_RECVTTL;
extern const int cudp_IP_TTL;
extern const int cudp_IP_MTU_DISCOVER;
extern const int cudp_IP_MTU;
extern const int cudp_IP_MULTICAST_ALL;
extern const int cudp_IP_PMTUDISC_DONT;
extern const int cudp_IP_PMTUDISC_WANT;
extern const int cudp_IP_PMTUDISC_DO;
extern const int cudp_IP_PMTUDISC_PROBE;
extern const int cudp_IPV6_RECVPKTINFO;
extern const int cudp_IPV6_PKTINFO;
/// IPV6_RECVHOPLIMIT asks for, and IPV6_HOPLIMIT carries, the hop limit of each received IPv6 datagram (an int).
extern const int cudp_IPV6_RECVHOPLIMIT;
extern const int cudp_IPV6_HOPLIMIT;
extern const int cudp_IPV6_MTU_DISCOVER;
extern const int cudp_IPV6_MTU;
extern const int cudp_IPV6_MULTICAST_ALL;
extern const int cudp_MCAST_JOIN_SOURCE_GROUP;
extern const int cudp_MCAST_LEAVE_SOURCE_GROUP;
extern const int cudp_UDP_SEGMENT;
extern const int cudp_UDP_GRO;
/// The error queue (ICMP errors, local errors, send timestamps): a receive flag and the options that fill it.
extern const int cudp_MSG_ERRQUEUE;
extern const int cudp_IP_RECVERR;
extern const int cudp_IPV6_RECVERR;
/// Kernel timestamps (SO_TIMESTAMPING): software receive and send stamps, send stamps numbered (OPT_ID) and
/// queued without the payload (OPT_TSONLY); send stamps arrive on the error queue with this origin and kind.
extern const int cudp_SO_TIMESTAMPING;
extern const int cudp_SOF_TIMESTAMPING_TX_SOFTWARE;
extern const int cudp_SOF_TIMESTAMPING_RX_SOFTWARE;
extern const int cudp_SOF_TIMESTAMPING_SOFTWARE;
extern const int cudp_SOF_TIMESTAMPING_OPT_ID;
extern const int cudp_SOF_TIMESTAMPING_OPT_TSONLY;
extern const int cudp_SO_EE_ORIGIN_TIMESTAMPING;
extern const int cudp_SCM_TSTAMP_SND;

/// Protocol-independent source-specific membership request (`struct group_source_req`).
int cudp_source_membership(int fd, int level, int join, uint32_t ifindex,
                           const struct sockaddr *group, socklen_t groupLength,
                           const struct sockaddr *source, socklen_t sourceLength);

/// IPv4 any-source membership (IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP) on the interface with index
/// `ifindex`, or else the one that has address `interface` (both network byte order; 0 for "any").
/// Linux takes `struct ip_mreqn`; elsewhere the index is not supported and only the address is used.
int cudp_ipv4_membership(int fd, int join, uint32_t group, uint32_t interface, uint32_t ifindex);
/// Sets IP_MULTICAST_IF by index or by address, as `cudp_ipv4_membership` chooses its interface.
int cudp_ipv4_multicast_interface(int fd, uint32_t interface, uint32_t ifindex);

#endif
