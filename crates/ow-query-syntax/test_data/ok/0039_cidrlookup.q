cidrlookup ip_ranges srcAddr as cidr OUTPUTNEW region, owner as netOwner
