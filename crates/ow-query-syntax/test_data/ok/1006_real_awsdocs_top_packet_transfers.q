# source: awsdocs CWL_QuerySyntax-examples.md
stats sum(packets) as packetsTransferred by srcAddr, dstAddr
| sort packetsTransferred  desc
| limit 15
