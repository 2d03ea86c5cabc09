// Domain XML fixtures in the shape of libvirt's live XML (virsh dumpxml of a running q35
// guest): the devices under test are spliced into an otherwise ordinary domain.
#pragma once

#include <string>
#include <string_view>

namespace vfhook::testing {

inline std::string domain_with(std::string_view devices, std::string_view metadata = "",
                               std::string_view name = "vm-sriov-1") {
  std::string xml = "<domain type='kvm' id='7'>\n  <name>";
  xml += name;
  xml += R"(</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
)";
  xml += metadata;
  xml += R"(
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/vm-sriov-1.qcow2' index='1'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <controller type='pci' index='0' model='pcie-root'>
      <alias name='pcie.0'/>
    </controller>
    <controller type='pci' index='1' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='1' port='0x10'/>
      <alias name='pci.1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0' multifunction='on'/>
    </controller>
)";
  xml += devices;
  xml += R"(
    <serial type='pty'>
      <source path='/dev/pts/3'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
      <alias name='serial0'/>
    </serial>
    <memballoon model='virtio'>
      <alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </memballoon>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+64055:+64055</label>
    <imagelabel>+64055:+64055</imagelabel>
  </seclabel>
</domain>
)";
  return xml;
}

// Two VFs as <interface type='hostdev'>: one managed by libvirt with a VLAN, one that vfhook
// binds itself (managed='no') with a user alias; a virtio NIC on a bridge in between.
inline constexpr std::string_view kTwoInterfacePorts = R"(
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:aa:00:01'/>
      <driver name='vfio'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x2'/>
      </source>
      <vlan>
        <tag id='120'/>
      </vlan>
      <alias name='hostdev0'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:12:34:56'/>
      <source bridge='br0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <interface type='hostdev' managed='no'>
      <mac address='52:54:00:aa:00:02'/>
      <driver name='vfio'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x4'/>
      </source>
      <alias name='ua-sriov-b'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </interface>)";

// A plain PCI hostdev (a VF or a whole NIC) next to hostdevs that are not PCI functions.
inline constexpr std::string_view kHostdevs = R"(
    <hostdev mode='subsystem' type='usb' managed='yes'>
      <source>
        <vendor id='0x0781'/>
        <product id='0x5567'/>
        <address bus='1' device='4'/>
      </source>
      <alias name='hostdev0'/>
      <address type='usb' bus='0' port='1'/>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <driver name='vfio'/>
      <source>
        <address domain='0x0000' bus='0x01' slot='0x11' function='0x6'/>
      </source>
      <alias name='hostdev1'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
    </hostdev>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>
      <source>
        <address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/>
      </source>
      <alias name='hostdev2'/>
      <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
    </hostdev>
    <hostdev mode='subsystem' type='scsi' managed='no'>
      <source>
        <adapter name='scsi_host0'/>
        <address bus='0' target='0' unit='0'/>
      </source>
      <alias name='hostdev3'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </hostdev>)";

// An interface on a libvirt network before libvirt resolved it (prepare, or a definition).
inline constexpr std::string_view kUnresolvedNetwork = R"(
    <interface type='network'>
      <mac address='52:54:00:aa:00:03'/>
      <source network='sriov-pool'/>
      <alias name='ua-net-vf'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>)";

// The same interface once libvirt picked a VF from the hostdev network (status form).
inline constexpr std::string_view kResolvedNetwork = R"(
    <interface type='network'>
      <mac address='52:54:00:aa:00:03'/>
      <source network='sriov-pool'/>
      <actual type='hostdev' managed='yes'>
        <source>
          <address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x6'/>
        </source>
        <vlan>
          <tag id='300'/>
        </vlan>
      </actual>
      <alias name='hostdev0'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>)";

// A domain with nothing vfhook cares about: virtio on a bridge and on libvirt's NAT network.
inline constexpr std::string_view kNoVfPorts = R"(
    <interface type='bridge'>
      <mac address='52:54:00:12:34:56'/>
      <source bridge='br0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:12:34:57'/>
      <source network='default' portid='0bd1a2c4-4f25-4f4c-9d2b-f0f2e1d1c0b0' bridge='virbr0'/>
      <target dev='vnet4'/>
      <model type='virtio'/>
      <alias name='net1'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>)";

inline std::string ports_metadata(std::string_view ports) {
  return std::string("  <metadata>\n    <vfhook:ports xmlns:vfhook=\"urn:vfhook:ports:1\">\n") +
         std::string(ports) + "\n    </vfhook:ports>\n  </metadata>\n";
}

}  // namespace vfhook::testing
