"""A cinder backend that keeps nothing, for the cloud gate's controller (never imported by venvdeb).

A chroot under a user namespace has no block device for LVM and may not mount for NFS, and cinder
ships no fake backend outside its tests (cinder.tests.fake_driver imports cinder.tests.unit, which
needs `fixtures`, a test dependency its venv does not have). This one is a real volume driver class
(cinder.volume.driver.VolumeDriver) whose volumes hold no data: cinder's API, scheduler, volume
manager, RPC and attachments run as they do with any backend, and an attachment gets iSCSI
connection properties that nova's fake virt driver records. cinder-volume finds it on the Python
path the gate gives that unit alone (a drop-in), as an operator adds an out-of-tree driver.
"""

from cinder.volume import driver


class VolumeDouble(driver.VolumeDriver):
    VERSION = "1.0.0"

    def check_for_setup_error(self):
        pass

    def do_setup(self, context):
        pass

    def create_volume(self, volume):
        return {}

    def delete_volume(self, volume):
        pass

    def create_export(self, context, volume, connector):
        return {}

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    def initialize_connection(self, volume, connector):
        return {"driver_volume_type": "iscsi",
                "data": {"target_discovered": False, "target_portal": "127.0.0.1:3260",
                         "target_iqn": f"iqn.2010-10.org.openstack:{volume.name}", "target_lun": 0,
                         "volume_id": volume.id, "access_mode": "rw"}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._stats = {"volume_backend_name": self.configuration.safe_get("volume_backend_name") or "double",
                           "vendor_name": "venvdeb", "driver_version": self.VERSION, "storage_protocol": "iSCSI",
                           "total_capacity_gb": 1000, "free_capacity_gb": 1000, "reserved_percentage": 0,
                           "thin_provisioning_support": True, "multiattach": False}
        return self._stats
