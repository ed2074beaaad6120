// Package account holds the portal's users: their profiles (Super
// Administrador, Administrador, Publicador of one dependencia, Consulta),
// their passwords (argon2id) and the store that keeps them in meta.app_user.
package account
