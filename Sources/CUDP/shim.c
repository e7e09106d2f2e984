#define _GNU_SOURCE
#include "CUDP.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/udp.h>
#endif

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

int cudp_recvmmsg(int fd, struct cudp_mmsghdr *vector, unsigned int count, int flags) {
#ifdef __linux__
    _Static_assert(sizeof(struct cudp_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
    return recvmmsg(fd, (struct mmsghdr *)vector, count, flags, NULL);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int cudp_sendmmsg(int fd, struct cudp_mmsghdr *vector, unsigned int count, int flags) {
#ifdef __linux__
    return sendmmsg(fd, (struct mmsghdr *)vector, count, flags);
#else
    errno = ENOSYS;
    return -1;
#endif
}

struct cmsghdr *cudp_cmsg_firsthdr(const struct msghdr *msg) { return CMSG_FIRSTHDR(msg); }
struct cmsghdr *cudp_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg) { return CMSG_NXTHDR(msg, cmsg); }
void *cudp_cmsg_data(struct cmsghdr *cmsg) { return CMSG_DATA(cmsg); }
size_t cudp_cmsg_space(size_t payload) { return CMSG_SPACE(payload); }
size_t cudp_cmsg_len(size_t payload) { return CMSG_LEN(payload); }

const int cudp_MSG_TRUNC = MSG_TRUNC;
const int cudp_MSG_DONTWAIT = MSG_DONTWAIT;
const int cudp_IPPROTO_UDP = IPPROTO_UDP;
const int cudp_IPPROTO_IP = IPPROTO_IP;
const int cudp_IPPROTO_IPV6 = IPPROTO_IPV6;
#ifdef MSG_WAITFORONE
const int cudp_MSG_WAITFORONE = MSG_WAITFORONE;
#else
const int cudp_MSG_WAITFORONE = 0;
#endif
#ifdef MSG_NOSIGNAL
const int cudp_MSG_NOSIGNAL = MSG_NOSIGNAL;
#else
const int cudp_MSG_NOSIGNAL = 0;
#endif

#ifdef __linux__
const int cudp_SO_RXQ_OVFL = SO_RXQ_OVFL;
#ifdef SO_MEMINFO
const int cudp_SO_MEMINFO = SO_MEMINFO;
#else
const int cudp_SO_MEMINFO = 55;  // Linux 3.17+; older headers lack the name
#endif
const int cudp_SO_REUSEPORT = SO_REUSEPORT;
const int cudp_IP_PKTINFO = IP_PKTINFO;
const int cudp_IP_RECVTTL = IP_RECVTTL;
const int cudp_IP_TTL = IP_TTL;
const int cudp_IP_MTU_DISCOVER = IP_MTU_DISCOVER;
const int cudp_IP_MTU = IP_MTU;
const int cudp_IP_MULTICAST_ALL = IP_MULTICAST_ALL;
const int cudp_IP_PMTUDISC_DONT = IP_PMTUDISC_DONT;
const int cudp_IP_PMTUDISC_WANT = IP_PMTUDISC_WANT;
const int cudp_IP_PMTUDISC_DO = IP_PMTUDISC_DO;
const int cudp_IP_PMTUDISC_PROBE = IP_PMTUDISC_PROBE;
const int cudp_IPV6_RECVPKTINFO = IPV6_RECVPKTINFO;
const int cudp_IPV6_PKTINFO = IPV6_PKTINFO;
const int cudp_IPV6_RECVHOPLIMIT = IPV6_RECVHOPLIMIT;
const int cudp_IPV6_HOPLIMIT = IPV6_HOPLIMIT;
const int cudp_IPV6_MTU_DISCOVER = IPV6_MTU_DISCOVER;
const int cudp_IPV6_MTU = IPV6_MTU;
#ifdef IPV6_MULTICAST_ALL
const int cudp_IPV6_MULTICAST_ALL = IPV6_MULTICAST_ALL;
#else
const int cudp_IPV6_MULTICAST_ALL = 29;
#endif
const int cudp_MCAST_JOIN_SOURCE_GROUP = MCAST_JOIN_SOURCE_GROUP;
const int cudp_MCAST_LEAVE_SOURCE_GROUP = MCAST_LEAVE_SOURCE_GROUP;
const int cudp_UDP_SEGMENT = UDP_SEGMENT;
const int cudp_UDP_GRO = UDP_GRO;
const int cudp_MSG_ERRQUEUE = MSG_ERRQUEUE;
const int cudp_IP_RECVERR = IP_RECVERR;
const int cudp_IPV6_RECVERR = IPV6_RECVERR;
const int cudp_SO_TIMESTAMPING = SO_TIMESTAMPING;
const int cudp_SOF_TIMESTAMPING_TX_SOFTWARE = SOF_TIMESTAMPING_TX_SOFTWARE;
const int cudp_SOF_TIMESTAMPING_RX_SOFTWARE = SOF_TIMESTAMPING_RX_SOFTWARE;
const int cudp_SOF_TIMESTAMPING_SOFTWARE = SOF_TIMESTAMPING_SOFTWARE;
const int cudp_SOF_TIMESTAMPING_OPT_ID = SOF_TIMESTAMPING_OPT_ID;
const int cudp_SOF_TIMESTAMPING_OPT_TSONLY = SOF_TIMESTAMPING_OPT_TSONLY;
const int cudp_SO_EE_ORIGIN_TIMESTAMPING = SO_EE_ORIGIN_TIMESTAMPING;
const int cudp_SCM_TSTAMP_SND = SCM_TSTAMP_SND;
#else
const int cudp_SO_RXQ_OVFL = -1;
const int cudp_SO_MEMINFO = -1;
const int cudp_SO_REUSEPORT = SO_REUSEPORT;
const int cudp_IP_PKTINFO = -1;
const int cudp_IP_RECVTTL = IP_RECVTTL;
const int cudp_IP_TTL = IP_TTL;
const int cudp_IP_MTU_DISCOVER = -1;
const int cudp_IP_MTU = -1;
const int cudp_IP_MULTICAST_ALL = -1;
const int cudp_IP_PMTUDISC_DONT = -1;
const int cudp_IP_PMTUDISC_WANT = -1;
const int cudp_IP_PMTUDISC_DO = -1;
const int cudp_IP_PMTUDISC_PROBE = -1;
const int cudp_IPV6_RECVPKTINFO = IPV6_RECVPKTINFO;
const int cudp_IPV6_PKTINFO = IPV6_PKTINFO;
const int cudp_IPV6_RECVHOPLIMIT = IPV6_RECVHOPLIMIT;
const int cudp_IPV6_HOPLIMIT = IPV6_HOPLIMIT;
const int cudp_IPV6_MTU_DISCOVER = -1;
const int cudp_IPV6_MTU = -1;
const int cudp_IPV6_MULTICAST_ALL = -1;
const int cudp_MCAST_JOIN_SOURCE_GROUP = MCAST_JOIN_SOURCE_GROUP;
const int cudp_MCAST_LEAVE_SOURCE_GROUP = MCAST_LEAVE_SOURCE_GROUP;
const int cudp_UDP_SEGMENT = -1;
const int cudp_UDP_GRO = -1;
const int cudp_MSG_ERRQUEUE = 0;
const int cudp_IP_RECVERR = -1;
const int cudp_IPV6_RECVERR = -1;
const int cudp_SO_TIMESTAMPING = -1;
const int cudp_SOF_TIMESTAMPING_TX_SOFTWARE = 0;
const int cudp_SOF_TIMESTAMPING_RX_SOFTWARE = 0;
const int cudp_SOF_TIMESTAMPING_SOFTWARE = 0;
const int cudp_SOF_TIMESTAMPING_OPT_ID = 0;
const int cudp_SOF_TIMESTAMPING_OPT_TSONLY = 0;
const int cudp_SO_EE_ORIGIN_TIMESTAMPING = -1;
const int cudp_SCM_TSTAMP_SND = -1;
#endif

int cudp_source_membership(int fd, int level, int join, uint32_t ifindex,
                           const struct sockaddr *group, socklen_t groupLength,
                           const struct sockaddr *source, socklen_t sourceLength) {
    struct group_source_req request;
    memset(&request, 0, sizeof request);
    request.gsr_interface = ifindex;
    if (groupLength > sizeof request.gsr_group || sourceLength > sizeof request.gsr_source) {
        errno = EINVAL;
        return -1;
    }
    memcpy(&request.gsr_group, group, groupLength);
    memcpy(&request.gsr_source, source, sourceLength);
    int name = join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP;
    return setsockopt(fd, level, name, &request, sizeof request);
}

int cudp_ipv4_membership(int fd, int join, uint32_t group, uint32_t interface, uint32_t ifindex) {
    int name = join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP;
#ifdef __linux__
    struct ip_mreqn request;
    memset(&request, 0, sizeof request);
    request.imr_multiaddr.s_addr = group;
    request.imr_address.s_addr = interface;
    request.imr_ifindex = (int)ifindex;
#else
    struct ip_mreq request;
    memset(&request, 0, sizeof request);
    request.imr_multiaddr.s_addr = group;
    request.imr_interface.s_addr = interface;
    if (ifindex != 0) { errno = ENOTSUP; return -1; }
#endif
    return setsockopt(fd, IPPROTO_IP, name, &request, sizeof request);
}

int cudp_ipv4_multicast_interface(int fd, uint32_t interface, uint32_t ifindex) {
#ifdef __linux__
    struct ip_mreqn request;
    memset(&request, 0, sizeof request);
    request.imr_address.s_addr = interface;
    request.imr_ifindex = (int)ifindex;
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request);
#else
    if (ifindex != 0) {
#ifdef IP_MULTICAST_IFINDEX
        return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IFINDEX, &ifindex, sizeof ifindex);
#else
        errno = ENOTSUP;
        return -1;
#endif
    }
    struct in_addr address = { .s_addr = interface };
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &address, sizeof address);
#endif
}

