//go:build k8s

package k8s

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the node's throwaway certificate authority: one CA, the API
// server's serving certificate, one client certificate in system:masters
// that every component uses, and the service account signing key.
type pki struct {
	dir                   string
	caCert, caKey         string
	serverCert, serverKey string
	adminCert, adminKey   string
	saKey, saPub          string
	ca                    *x509.Certificate
	caPriv                *ecdsa.PrivateKey
	serial                int64
}

func newPKI(dir string, serverIPs []net.IP) (*pki, error) {
	p := &pki{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nst-k8s-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caPriv.PublicKey, caPriv)
	if err != nil {
		return nil, err
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.caPriv, p.serial = caPriv, 1
	if p.caCert, p.caKey, err = p.write("ca", der, caPriv); err != nil {
		return nil, err
	}
	p.serverCert, p.serverKey, err = p.issue("apiserver", pkix.Name{CommonName: "kube-apiserver"}, serverIPs,
		[]string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
		x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	p.adminCert, p.adminKey, err = p.issue("admin", pkix.Name{CommonName: "nst-admin", Organization: []string{"system:masters"}}, nil, nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	saPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if p.saKey, err = writeKey(filepath.Join(dir, "sa.key"), saPriv); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saPriv.PublicKey)
	if err != nil {
		return nil, err
	}
	p.saPub = filepath.Join(dir, "sa.pub")
	return p, os.WriteFile(p.saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

func (p *pki) issue(name string, subject pkix.Name, ips []net.IP, dns []string, usage x509.ExtKeyUsage) (string, string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: subject, IPAddresses: ips, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &priv.PublicKey, p.caPriv)
	if err != nil {
		return "", "", fmt.Errorf("issuing %s certificate: %w", name, err)
	}
	return p.write(name, der, priv)
}

func (p *pki) write(name string, der []byte, priv *ecdsa.PrivateKey) (string, string, error) {
	cert := filepath.Join(p.dir, name+".crt")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	key, err := writeKey(filepath.Join(p.dir, name+".key"), priv)
	return cert, key, err
}

func writeKey(path string, priv *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

// kubeconfig writes a kubeconfig that reaches the API server at server with
// the admin certificate.
func (p *pki) kubeconfig(path, server string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: nst
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: nst
  context: {cluster: nst, user: admin}
current-context: nst
`, server, p.caCert, p.adminCert, p.adminKey)), 0o600)
}
